/// TokenDriver: USB signing tokens over PC/SC — the PIV card application (NIST SP 800-73-4), its
/// APDUs and TLV objects, reader and card events. Knows nothing of documents.
///
/// `APDU/` and `TLV/` are pure codecs and state machines: bytes in, values or actions out; they
/// never touch pcscd, so they are tested byte by byte without a card.
package enum TokenDriver {}
