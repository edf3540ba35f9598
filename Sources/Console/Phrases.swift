// Every word the console shows, in Vietnamese and English, in one table.
import GatewayCore

/// The page's language: Vietnamese unless the person chose English (`?lang=en`, kept in a cookie).
package enum Language: String, Sendable, CaseIterable {
    case vi, en

    var other: Language { self == .vi ? .en : .vi }
}

/// One entry of the table; `text(in:)` gives its words.
package enum Phrase: CaseIterable, Sendable {
    case consoleTitle, overview, users, logout, waitingForMe, otherLanguage
    case login, loginTitle, password, passwordAgain, displayName, role, identity, submit
    case wrongLogin, tooManyFromAddress, accountDelayed, loginRequired, forbidden, csrfRefused, notFound
    case setupTitle, setupExplain, setupCode, wrongSetupCode, setupDone
    case loggedInAs, documentsByState, tokens, noTokens, pinTriesLeft, noTokenService, warnings, noWarnings
    case userList, addUser, disable, enable, disabled, active, userAdded, userChanged
    case invalidLogin, invalidDisplayName, passwordTooShort, passwordsDiffer, identityRequired, identityNotALeader, identityTaken, userExists
    case roleVanThu, roleLanhDao, roleQuanTri
    case caTitle, caExplain, caDownload, caFingerprint, caStepsWindows
    case failed, tooLarge
    case changePassword, currentPassword, newPassword, wrongCurrentPassword, passwordChanged, unlock, failedLogins, expires
    case hub, hubNotConfigured, linkUp, linkDown, linkUnknown, since, lastSuccess, lastError, lane, queued, sending
    // The document pages: outbox, upload, document, inbox.
    case outbox, inbox, document, upload, file, attachmentsField, subject, number, notation, documentType, priority, recipients, recipientsHint
    case signaturesNeeded, signaturesDefault, search, fromDate, toDate, allStates, noDocuments, olderPage, firstPage, withdraw, withdrawDone
    case replaceFile, replaceDone, download, printHint, receipt, history, when, what, signaturesMade, stateReason, whatToDo, uploadDone
    case uploadRefused, fileRequired, subjectRequired, recipientsRequired, tooLargeUpload, malformedUpload, notNow, noSuchDocument
    case verdict, files, statusAction, statusReason, statusRecorded, relayOff, inboxEmpty, sender, receivedAt, size, version, registerNumber
    case stateReceived, stateAwaitingLeader, stateAwaitingSeal, stateReturned, stateSigned, stateQueued, stateSending, stateDelivered
    case verdictPending, inboxFolder, state, stateWithdrawn, stateRejected, stateQuarantined, adviceRejected, adviceQuarantined, adviceReturned, statusRefusedNeedsReason

    package func text(in language: Language) -> String {
        let (vi, en) = words
        return language == .vi ? vi : en
    }

    var words: (String, String) {
        switch self {
        case .consoleTitle: ("Cổng văn bản điện tử", "Document gateway")
        case .overview: ("Tổng quan", "Overview")
        case .users: ("Người dùng", "Users")
        case .logout: ("Đăng xuất", "Log out")
        case .waitingForMe: ("Chờ tôi xử lý", "Waiting for me")
        case .otherLanguage: ("English", "Tiếng Việt")
        case .login: ("Tên đăng nhập", "Login")
        case .loginTitle: ("Đăng nhập", "Log in")
        case .password: ("Mật khẩu", "Password")
        case .passwordAgain: ("Nhập lại mật khẩu", "Password again")
        case .displayName: ("Họ và tên", "Full name")
        case .role: ("Vai trò", "Role")
        case .identity: ("Định danh trên chứng thư (CCCD:…)", "Certificate identity (CCCD:…)")
        case .submit: ("Gửi", "Submit")
        case .wrongLogin: ("Sai tên đăng nhập hoặc mật khẩu.", "Wrong login or password.")
        case .tooManyFromAddress:
            ("Quá nhiều lần đăng nhập sai từ máy này. Hãy thử lại sau 15 phút.", "Too many failed logins from this computer. Try again in 15 minutes.")
        case .accountDelayed:
            ("Tài khoản này vừa bị nhập sai nhiều lần. Hãy chờ một lát rồi thử lại.", "This account had several failed logins. Wait a moment and try again.")
        case .loginRequired: ("Cần đăng nhập.", "Please log in.")
        case .forbidden: ("Tài khoản của bạn không có quyền này.", "Your account may not do this.")
        case .csrfRefused:
            ("Biểu mẫu đã hết hạn hoặc không hợp lệ. Hãy tải lại trang và thử lại.", "The form has expired or is not valid. Reload the page and try again.")
        case .notFound: ("Không có trang này.", "No such page.")
        case .setupTitle: ("Cài đặt lần đầu", "First-run setup")
        case .setupExplain:
            ("Tạo tài khoản quản trị đầu tiên. Mã cài đặt do kỹ thuật viên xem bằng lệnh `gatewayd status` trên hộp.",
             "Create the first administrator. The technician reads the setup code with `gatewayd status` on the box.")
        case .setupCode: ("Mã cài đặt", "Setup code")
        case .wrongSetupCode: ("Mã cài đặt không đúng.", "Wrong setup code.")
        case .setupDone: ("Đã tạo tài khoản quản trị. Hãy đăng nhập.", "The administrator account was created. Please log in.")
        case .loggedInAs: ("Đang đăng nhập", "Logged in as")
        case .documentsByState: ("Văn bản theo trạng thái", "Documents by state")
        case .tokens: ("Token ký số", "Signing tokens")
        case .noTokens: ("Chưa cắm token nào.", "No token plugged in.")
        case .pinTriesLeft: ("Số lần nhập PIN còn lại", "PIN tries left")
        case .noTokenService: ("Dịch vụ thẻ (pcscd) không chạy.", "The card service (pcscd) is not running.")
        case .userList: ("Danh sách người dùng", "User list")
        case .addUser: ("Thêm người dùng", "Add a user")
        case .disable: ("Khoá", "Disable")
        case .enable: ("Mở khoá", "Enable")
        case .disabled: ("Đã khoá", "Disabled")
        case .active: ("Đang dùng", "Active")
        case .userAdded: ("Đã thêm người dùng.", "User added.")
        case .userChanged: ("Đã lưu thay đổi.", "Change saved.")
        case .invalidLogin:
            ("Tên đăng nhập gồm 2–32 ký tự: chữ thường không dấu, số, dấu chấm, gạch ngang, gạch dưới.",
             "A login is 2–32 characters: lower-case letters without accents, digits, dot, hyphen, underscore.")
        case .invalidDisplayName: ("Họ và tên phải có từ 1 đến 100 ký tự.", "The full name must have 1 to 100 characters.")
        case .passwordTooShort: ("Mật khẩu phải có ít nhất 8 ký tự.", "The password must have at least 8 characters.")
        case .passwordsDiffer: ("Hai mật khẩu không giống nhau.", "The two passwords differ.")
        case .identityRequired: ("Tài khoản lãnh đạo cần định danh trên chứng thư (CCCD:…).", "A leader's account needs the certificate identity (CCCD:…).")
        case .identityNotALeader:
            ("Định danh này không thuộc lãnh đạo nào trong [[signing.leaders]] của cấu hình.", "This identity is not one of the leaders in the configuration's [[signing.leaders]].")
        case .identityTaken: ("Định danh này đã gắn với tài khoản khác.", "This identity is already bound to another account.")
        case .userExists: ("Tên đăng nhập này đã có.", "This login already exists.")
        case .roleVanThu: ("Văn thư", "Clerk (văn thư)")
        case .roleLanhDao: ("Lãnh đạo", "Leader (lãnh đạo)")
        case .roleQuanTri: ("Quản trị", "Administrator (quản trị)")
        case .caTitle: ("Cài chứng thư của hộp", "Install the box's certificate")
        case .caExplain:
            ("Mỗi máy tính trong văn phòng cài chứng thư gốc của hộp một lần, để trình duyệt tin trang này. So sánh dấu vân tay dưới đây với dấu vân tay do lệnh `gatewayd status` in ra trên hộp — không chỉ với trang này.",
             "Each office computer installs the box's root certificate once, so that the browser trusts this page. Compare the fingerprint below with the one `gatewayd status` prints on the box — not only with this page.")
        case .caDownload: ("Tải chứng thư gốc", "Download the root certificate")
        case .caFingerprint: ("Dấu vân tay", "Fingerprint")
        case .caStepsWindows:
            ("Trên Windows: mở tệp đã tải → Cài đặt chứng thư (Install Certificate) → Máy cục bộ (Local Machine) → Đặt tất cả chứng thư vào kho sau → Duyệt → Trusted Root Certification Authorities → Tiếp → Hoàn tất. Sau đó mở lại trình duyệt.",
             "On Windows: open the downloaded file → Install Certificate → Local Machine → Place all certificates in the following store → Browse → Trusted Root Certification Authorities → Next → Finish. Then restart the browser.")
        case .changePassword: ("Đổi mật khẩu", "Change password")
        case .currentPassword: ("Mật khẩu hiện tại", "Current password")
        case .newPassword: ("Mật khẩu mới", "New password")
        case .wrongCurrentPassword: ("Mật khẩu hiện tại không đúng.", "The current password is wrong.")
        case .passwordChanged: ("Đã đổi mật khẩu. Hãy đăng nhập lại.", "The password was changed. Please log in again.")
        case .unlock: ("Xoá lần nhập sai", "Clear failed logins")
        case .failedLogins: ("Lần nhập sai", "Failed logins")
        case .hub: ("Cấp trên", "Hub")
        case .hubNotConfigured: ("Chưa cấu hình [upstream]: văn bản chờ trong hộp.", "No [upstream] configured: documents wait on the box.")
        case .linkUp: ("đã kết nối", "up")
        case .linkDown: ("MẤT KẾT NỐI", "DOWN")
        case .linkUnknown: ("chưa thử", "not tried yet")
        case .since: ("từ", "since")
        case .lastSuccess: ("Gửi thành công gần nhất", "Last success")
        case .lastError: ("Lỗi gần nhất", "Last error")
        case .lane: ("Độ khẩn", "Lane")
        case .queued: ("Chờ gửi", "Queued")
        case .sending: ("Đang gửi", "Sending")
        case .expires: ("hết hạn", "expires")
        case .outbox: ("Văn bản đi", "Outbox")
        case .inbox: ("Văn bản đến", "Inbox")
        case .document: ("Văn bản", "Document")
        case .upload: ("Tải lên văn bản mới", "Upload a new document")
        case .file: ("Tệp văn bản (PDF)", "Document file (PDF)")
        case .attachmentsField: ("Tệp đính kèm / phụ lục (có thể chọn nhiều)", "Attachments (several allowed)")
        case .subject: ("Trích yếu", "Subject")
        case .number: ("Số", "Number")
        case .notation: ("Ký hiệu", "Notation")
        case .documentType: ("Loại văn bản", "Document type")
        case .priority: ("Độ khẩn", "Priority")
        case .recipients: ("Nơi nhận", "Recipients")
        case .recipientsHint: ("Mã định danh hoặc tên cơ quan, cách nhau bằng dấu chấm phẩy (;)", "Agency codes or names, separated by semicolons (;)")
        case .signaturesNeeded: ("Chữ ký cần có", "Signatures needed")
        case .signaturesDefault: ("Theo cấu hình của hộp", "As configured on the box")
        case .search: ("Tìm", "Search")
        case .fromDate: ("Từ ngày", "From")
        case .toDate: ("Đến ngày", "To")
        case .allStates: ("Tất cả", "All")
        case .noDocuments: ("Không có văn bản nào.", "No documents.")
        case .olderPage: ("Trang sau (cũ hơn) →", "Next page (older) →")
        case .firstPage: ("← Trang đầu", "← First page")
        case .withdraw: ("Rút lại (không gửi)", "Withdraw (do not send)")
        case .withdrawDone: ("Đã rút lại văn bản.", "The document was withdrawn.")
        case .replaceFile: ("Thay tệp", "Replace the file")
        case .replaceDone: ("Đã thay tệp văn bản.", "The file was replaced.")
        case .download: ("Tải xuống", "Download")
        case .printHint: ("Mở tệp rồi in từ trình đọc PDF.", "Open the file and print it from the PDF reader.")
        case .receipt: ("Biên nhận của cấp trên", "The hub's receipt")
        case .history: ("Lịch sử", "History")
        case .when: ("Thời điểm", "When")
        case .what: ("Diễn biến", "What happened")
        case .signaturesMade: ("Chữ ký đã ký trên hộp", "Signatures made on the box")
        case .stateReason: ("Lý do", "Reason")
        case .whatToDo: ("Cần làm", "What to do")
        case .uploadDone: ("Đã nhận văn bản.", "The document was received.")
        case .uploadRefused: ("Chưa nhận văn bản, không có gì thay đổi:", "The document was not taken; nothing changed:")
        case .fileRequired: ("Hãy chọn tệp văn bản.", "Choose the document's file.")
        case .subjectRequired: ("Hãy nhập trích yếu.", "Enter the subject.")
        case .recipientsRequired: ("Hãy nhập nơi nhận.", "Enter the recipients.")
        case .tooLargeUpload:
            ("Tệp quá lớn: hộp không nhận tệp lớn như vậy. Hãy giảm dung lượng (ví dụ quét lại ở độ phân giải thấp hơn) rồi thử lại.",
             "The file is too large for the box. Make it smaller (for example scan at a lower resolution) and try again.")
        case .malformedUpload: ("Biểu mẫu gửi lên không đúng định dạng. Hãy tải lại trang và thử lại.", "The form was not sent correctly. Reload the page and try again.")
        case .notNow: ("Văn bản đã ở trạng thái không cho phép việc này.", "The document's state no longer allows this.")
        case .noSuchDocument: ("Không có văn bản này.", "No such document.")
        case .verdict: ("Kết quả kiểm tra chữ ký", "Signature check")
        case .files: ("Tệp", "Files")
        case .statusAction: ("Gửi trạng thái xử lý lên cấp trên", "Send a handling status to the hub")
        case .statusReason: ("Ghi chú / lý do (bắt buộc khi từ chối)", "Note / reason (required to refuse)")
        case .statusRecorded: ("Đã ghi nhận trạng thái; hộp sẽ gửi lên cấp trên.", "The status was recorded; the box will send it to the hub.")
        case .relayOff: ("Chưa cấu hình [upstream]: không gửi được trạng thái.", "[upstream] is not configured: statuses cannot be sent.")
        case .warnings: ("Cảnh báo", "Warnings")
        case .noWarnings: ("Không có cảnh báo nào.", "No warnings.")
        case .inboxEmpty: ("Chưa có văn bản đến.", "No incoming documents yet.")
        case .sender: ("Nơi gửi", "From")
        case .receivedAt: ("Nhận lúc", "Received")
        case .size: ("Dung lượng", "Size")
        case .version: ("Phiên bản", "Version")
        case .registerNumber: ("Số đăng ký", "Register number")
        case .inboxFolder: ("Thư mục trong văn bản đến", "Folder in the inbox share")
        case .verdictPending: ("Chưa kiểm tra chữ ký", "Signatures not checked yet")
        case .state: ("Trạng thái", "State")
        case .stateReceived: ("Mới nhận", "Received")
        case .stateAwaitingLeader: ("Chờ lãnh đạo ký", "Awaiting the leader")
        case .stateAwaitingSeal: ("Chờ đóng dấu", "Awaiting the seal")
        case .stateReturned: ("Bị trả lại", "Returned")
        case .stateSigned: ("Đã ký", "Signed")
        case .stateQueued: ("Chờ gửi", "Queued")
        case .stateSending: ("Đang gửi", "Sending")
        case .stateDelivered: ("Đã gửi thành công", "Delivered")
        case .stateWithdrawn: ("Đã rút lại", "Withdrawn")
        case .stateRejected: ("Bị từ chối", "Rejected")
        case .stateQuarantined: ("Bị cách ly", "Quarantined")
        case .adviceRejected:
            ("Sửa theo lý do bên dưới rồi tải lên lại thành văn bản mới; văn bản này sẽ không được gửi.",
             "Fix what the reason says and upload it again as a new document; this one will not be sent.")
        case .adviceQuarantined:
            ("Tệp trong hộp bị hỏng hoặc không khớp: báo kỹ thuật viên (gatewayd store check) và tải lên lại.",
             "The stored file is damaged or does not match: tell the technician (gatewayd store check) and upload it again.")
        case .adviceReturned: ("Xem ghi chú của lãnh đạo, thay tệp nếu cần; văn bản sẽ quay lại chờ ký.",
                               "Read the leader's note and replace the file if needed; the document then waits for signing again.")
        case .statusRefusedNeedsReason: ("Từ chối (02) cần ghi lý do.", "A refusal (02) needs its reason.")
        case .tooLarge: ("Nội dung gửi lên quá lớn.", "What was sent is too large.")
        case .failed: ("Có lỗi, chưa làm được. Hãy thử lại hoặc báo kỹ thuật viên.", "Something went wrong; nothing was done. Try again or tell the technician.")
        }
    }
}

extension ConsoleRole {
    var phrase: Phrase {
        switch self {
        case .vanThu: .roleVanThu
        case .lanhDao: .roleLanhDao
        case .quanTri: .roleQuanTri
        }
    }
}
