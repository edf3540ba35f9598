import Hummingbird
import NIOCore

/// Reading a request's JSON body the same way in every route that takes one (a signing session,
/// the token routes): an object of known keys, each optional field checked for its type.
extension LocalAPI {
    /// A request's body as a JSON object of `keys` only (at most `limit` bytes); `shape` says what is
    /// expected when it is not one. Anything else is refused before the stage is asked.
    static func requestObject(_ request: Request, upTo limit: Int, keys: [String], shape: String) async throws -> [String: JSONValue] {
        let bytes = try await request.body.collect(upTo: limit)
        guard case .object(let object)? = JSONValue.parse(Array(buffer: bytes)) else {
            throw APIError.badRequest("nội dung phải là JSON \(shape)", "the body must be JSON \(shape)")
        }
        for key in object.keys where !keys.contains(key) {
            throw APIError.badRequest("khóa không được hỗ trợ \"\(key)\"", "unknown key \"\(key)\"")
        }
        return object
    }

    /// An optional boolean of a request's object: absent is false.
    static func flag(_ object: [String: JSONValue], _ key: String) throws -> Bool {
        switch object[key] {
        case nil: return false
        case .bool(let value)?: return value
        default: throw APIError.badRequest("\"\(key)\" phải là true hoặc false", "\"\(key)\" must be true or false")
        }
    }

    /// An optional string of a request's object: absent or null is nil, anything else not a string is refused.
    static func text(_ object: [String: JSONValue], _ key: String) throws -> String? {
        switch object[key] {
        case nil, .null?: return nil
        case .string(let value)?: return value
        default: throw APIError.badRequest("\"\(key)\" phải là chuỗi", "\"\(key)\" must be a string")
        }
    }
}
