secure_scheme_headers = {"X_FORWARDED_PROTO": "https"}
