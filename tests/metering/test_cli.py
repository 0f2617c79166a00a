"""``ocppnet ocmf verify`` as a user runs it: a real subprocess, files and stdin."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from ocppnet.metering import MeterKey, TransparencyEntry, sign_payload, write_transparency

from .builders import T0, T1, payload, reading

SAMPLES = Path(__file__).parent / "samples"


def _run(*args: str, stdin: bytes | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "ocppnet.cli.main", "ocmf", "verify", *args],
                          input=stdin.decode() if stdin is not None else None,
                          capture_output=True, text=True, timeout=60, check=False)


def test_sample_files_valid_and_tampered() -> None:
    good = _run(str(SAMPLES / "test_ocmf_ebee_01.xml"))
    assert good.returncode == 0, good.stderr
    assert "record 1 (transaction 15060, Transaction.Begin): valid: signature valid" in good.stdout
    assert "transaction 15060: ok: 0 Wh from meter 000033022620" in good.stdout
    bad = _run(str(SAMPLES / "test_ocmf_ebee_02.xml"))
    assert bad.returncode == 1
    assert ("record 1 (transaction 15060, Transaction.Begin): INVALID: signature does not "
            "match the payload") in bad.stdout
    assert "record 2 (transaction 15060, Transaction.End): valid" in bad.stdout


def test_records_on_stdin_with_an_out_of_band_key(tmp_path: Path) -> None:
    key = MeterKey.generate()
    begin = sign_payload(payload(1, reading("1.0", "B", T0)), key).text
    end = sign_payload(payload(2, reading("3.0", "E", T1)), key).text
    text = f"{begin}\n{end}\n".encode()
    ok = _run("-", "--public-key", key.public.base64(), stdin=text)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert ok.stdout.count(": valid: ") == 2
    (tmp_path / "key.hex").write_text(MeterKey.generate().public.hex())
    other = _run("-", "--public-key", f"@{tmp_path / 'key.hex'}", stdin=text)
    assert other.returncode == 1 and other.stdout.count(": INVALID: ") == 2
    nokey = _run("-", stdin=text)
    assert nokey.returncode == 1 and "no public key" in nokey.stdout


def test_strict_fails_on_a_transaction_without_end(tmp_path: Path) -> None:
    key = MeterKey.generate()
    begin = sign_payload(payload(1, reading("1.0", "B", T0)), key).text
    path = tmp_path / "t.xml"
    path.write_bytes(write_transparency([TransparencyEntry(begin, key.public.hex(), "9",
                                                           "Transaction.Begin")]))
    assert _run(str(path)).returncode == 0
    strict = _run(str(path), "--strict")
    assert strict.returncode == 1
    assert "transaction 9: problem: no verified end reading" in strict.stdout


def test_unreadable_input_is_one_line(tmp_path: Path) -> None:
    path = tmp_path / "x.xml"
    path.write_text("<values><oops></values>")
    result = _run(str(path))
    assert result.returncode == 2
    assert result.stderr.startswith(f"ocppnet ocmf verify: {path}: not a transparency XML")
    assert len(result.stderr.strip().splitlines()) == 1
    missing = _run(str(tmp_path / "none.xml"))
    assert missing.returncode == 2
    assert missing.stderr == f"ocppnet ocmf verify: {tmp_path / 'none.xml'}: No such file or " \
        "directory\n"
    assert _run("--public-key", "zz", str(path)).stderr.startswith(
        "ocppnet ocmf verify: --public-key: not a DER public key")


def test_key_prints_a_simulated_meters_public_key(tmp_path: Path) -> None:
    from ocppnet.station.signed_meter import meter_key_from_store

    key = meter_key_from_store(tmp_path, "CS-1")
    result = subprocess.run([sys.executable, "-m", "ocppnet.cli.main", "ocmf", "key", "CS-1",
                             "--store", str(tmp_path)], capture_output=True, text=True,
                            timeout=60, check=False)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == key.public.hex()
    missing = subprocess.run([sys.executable, "-m", "ocppnet.cli.main", "ocmf", "key", "CS-9",
                              "--store", str(tmp_path)], capture_output=True, text=True,
                             timeout=60, check=False)
    assert missing.returncode == 2
    assert missing.stderr.startswith("ocppnet ocmf key: ") and "meter-CS-9" in missing.stderr
