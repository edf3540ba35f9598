"""What the scripts submit as documents' metadata: real-looking Vietnamese subjects and recipients."""

RECIPIENTS = ["000.00.20.H13", "000.00.20.H14", "000.00.21.H01", "010.00.00.G02"]
SUBJECTS = [
    "Về việc tổ chức họp giao ban tháng 11",
    "Về việc triển khai chữ ký số trong cơ quan nhà nước",
    "Báo cáo tình hình kinh tế – xã hội quý IV",
    "Kế hoạch phòng, chống thiên tai năm 2026",
    "Thông báo lịch tiếp công dân của Chủ tịch UBND xã",
]
