"""Transparency files: written with exact record texts, read back, hostile XML refused."""

from __future__ import annotations

import base64

import pytest

from ocppnet.metering import (
    MeterKey,
    OcmfError,
    TransparencyEntry,
    parse_public_key,
    parse_record,
    read_transparency,
    sign_payload,
    verify_record,
    write_transparency,
)

from .builders import T0, T1, payload, reading

KEY = MeterKey.generate()


def test_written_file_reads_back_byte_exact() -> None:
    begin = sign_payload(payload(1, reading("1.000", "B", T0)), KEY)
    end = sign_payload(payload(2, reading("9.500", "E", T1)), KEY)
    data = write_transparency([
        TransparencyEntry(begin.text, KEY.public.hex(), "tx-1", "Transaction.Begin"),
        TransparencyEntry(end.text, KEY.public.hex(), "tx-1", "Transaction.End")])
    assert data.startswith(b'<?xml version="1.0" encoding="UTF-8"?>\n<values>')
    assert b'<signedData format="OCMF" encoding="plain">OCMF|{' in data
    entries = read_transparency(data)
    assert [e.signed_data for e in entries] == [begin.text, end.text]
    assert [e.context for e in entries] == ["Transaction.Begin", "Transaction.End"]
    for entry in entries:
        key = parse_public_key(entry.public_key or "")
        assert verify_record(parse_record(entry.signed_data), key).valid


def test_markup_characters_in_signed_text_survive() -> None:
    record = sign_payload(payload(3, reading("1", "B", T0), serial='<&"meter">'), KEY)
    entries = read_transparency(write_transparency([TransparencyEntry(record.text)]))
    assert entries[0].signed_data == record.text
    assert entries[0].public_key is None


def test_base64_and_hex_encoded_signed_data() -> None:
    record = sign_payload(payload(4, reading("1", "B", T0)), KEY)
    b64 = base64.b64encode(record.text.encode()).decode()
    xml = (f'<values><value><signedData format="OCMF" encoding="base64">{b64}</signedData>'
           f'<publicKey encoding="base64">{KEY.public.base64()}</publicKey></value>'
           f'<value><signedData encoding="hex">{record.text.encode().hex()}</signedData>'
           f'</value></values>')
    first, second = read_transparency(xml)
    assert first.signed_data == second.signed_data == record.text
    assert verify_record(parse_record(first.signed_data),
                         parse_public_key(first.public_key or "")).valid


@pytest.mark.parametrize(("xml", "message"), [
    ("<values>", "f.xml: not a transparency XML file"),
    ("<records/>", "f.xml: root element is <records>, expected <values>"),
    ("<values/>", "f.xml: no <value> elements"),
    ("<values><value><publicKey>00</publicKey></value></values>",
     "f.xml: value[0]: no <signedData>"),
    ('<values><value><signedData encoding="rot13">x</signedData></value></values>',
     "f.xml: value[0].signedData: unknown encoding 'rot13'"),
    ('<?xml version="1.0"?><!DOCTYPE v [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;">]>'
     '<values><value><signedData>&b;</signedData></value></values>',
     "f.xml: not a transparency XML file"),
])
def test_bad_files_are_one_line_naming_the_place(xml: str, message: str) -> None:
    with pytest.raises(OcmfError) as info:
        read_transparency(xml, "f.xml")
    assert str(info.value).startswith(message)
