"""Bringing models in: `models add` (a local file) and `models pull` (a download from a local HTTP server)."""

from __future__ import annotations

import hashlib
import http.server
import threading
from pathlib import Path

import pytest
from conftest import MODELS, run_cli, run_cli_json

from assistant import Assistant, Settings
from assistant.answer.model_files import pull_model
from assistant.errors import AssistantError

MODEL = MODELS / "SmolLM2-135M-Instruct.Q4_1.gguf"
pytestmark = pytest.mark.skipif(not MODEL.exists(), reason="the default model comes from install.sh")


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


class Server:
    """Serves one file over HTTP on 127.0.0.1 with range requests; can drop the connection halfway."""

    def __init__(self, data: bytes) -> None:
        self.data, self.drop_next, self.ranges = data, False, []
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802
                rng = self.headers.get("Range")
                outer.ranges.append(rng)
                start = int(rng.split("=")[1].split("-")[0]) if rng else 0
                body = outer.data[start:]
                self.send_response(206 if rng else 200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if outer.drop_next:
                    outer.drop_next = False
                    self.wfile.write(body[: len(body) // 2])
                    self.wfile.flush()
                    self.connection.shutdown(2)
                    return
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/tiny-chat.Q4_1.gguf"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()


def test_pull_resumes_an_interrupted_download_and_verifies_it(home: Path, tmp_path: Path) -> None:
    models = tmp_path / "models"
    a = Assistant(Settings.load({"models_dir": str(models)}))
    server = Server(MODEL.read_bytes())
    expected = sha(MODEL)
    try:
        server.drop_next = True
        with pytest.raises(AssistantError, match="run the same command again to resume"):
            pull_model(server.url, models, expected)
        part = models / ".tiny-chat.Q4_1.gguf.part"
        assert 0 < part.stat().st_size < MODEL.stat().st_size and not list(models.glob("*.gguf"))
        info = pull_model(server.url, models, expected)
        assert server.ranges[-1] == f"bytes={MODEL.stat().st_size // 2}-"  # resumed, not restarted
        assert info.name == "tiny-chat.Q4_1.gguf" and sha(models / info.name) == expected and not part.exists()
        assert [m.name for m in a.models()] == ["tiny-chat.Q4_1.gguf"]

        (models / info.name).unlink()
        with pytest.raises(AssistantError, match="Nothing was added"):
            pull_model(server.url, models, "0" * 64)
        assert list(models.iterdir()) == []  # a wrong checksum leaves nothing behind
    finally:
        server.httpd.shutdown()
    with pytest.raises(AssistantError, match="cannot reach"):
        pull_model(server.url, models, expected)  # the server is gone: no network
    with pytest.raises(AssistantError, match="needs --sha256|64 hexadecimal"):
        pull_model(server.url, models, "abc")


def test_add_copies_a_verified_gguf_and_refuses_anything_else(home: Path, tmp_path: Path, capsys,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    models = tmp_path / "models"
    src = tmp_path / "incoming" / "my-model.gguf"
    src.parent.mkdir()
    src.write_bytes(MODEL.read_bytes())
    monkeypatch.setenv("ASSISTANT_MODELS_DIR", str(models))
    code, _, err = run_cli("models", "add", str(src), "--sha256", "1" * 64, capsys=capsys)
    assert code == 1 and "SHA-256" in err and not list(models.glob("*"))
    info = run_cli_json("models", "add", str(src), "--sha256", sha(src), capsys=capsys)
    assert info["name"] == "my-model.gguf" and (models / "my-model.gguf").exists()
    assert info["architecture"] == "llama" and info["has_chat_template"]
    listed = run_cli_json("models", capsys=capsys)
    assert [m["name"] for m in listed] == ["my-model.gguf"]
    fake = tmp_path / "incoming" / "notes.gguf"
    fake.write_text("not a model")
    code, _, err = run_cli("models", "add", str(fake), capsys=capsys)
    assert code == 1 and "not a usable GGUF" in err and not (models / "notes.gguf").exists()
