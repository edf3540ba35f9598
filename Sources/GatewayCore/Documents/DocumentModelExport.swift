// The pure document vocabulary (agency codes, priorities) lives in DocumentModel so that EdXML
// and the relay share it without depending on the store; GatewayCore's users see it as before.
@_exported import DocumentModel
