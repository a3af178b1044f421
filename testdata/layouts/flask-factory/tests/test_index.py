from blogr import create_app


def test_index():
    client = create_app({"TESTING": True}).test_client()
    assert b"flask-factory" in client.get("/").data
