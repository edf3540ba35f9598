// TokenDriver: USB signing tokens over PC/SC (PIV). Filled in by its own issue.
