"""SOPS (age) for the rehearsal cluster: decrypt a Secret as Flux's kustomize-controller does.

The format is SOPS's own: each value is ``ENC[AES256_GCM,data:…,iv:…,tag:…,type:…]``, AES-256-GCM with
a 32-byte nonce and the value's key path (``stringData:SECRET_DOMAIN:``) as additional data; the data
key is age-encrypted for each recipient under ``sops.age``. ``encrypt`` writes the same format (the
sample repository's ``cluster-secrets.sops.yaml`` is made with it).
"""

from __future__ import annotations

import base64
import functools
import hashlib
import os
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ENC = re.compile(r"^ENC\[AES256_GCM,data:(?P<data>[^,]*),iv:(?P<iv>[^,]+),tag:(?P<tag>[^,]+),type:(?P<type>\w+)\]$")
ARMOR_BEGIN, ARMOR_END = "-----BEGIN AGE ENCRYPTED FILE-----", "-----END AGE ENCRYPTED FILE-----"
IDENTITY_FILE = Path(__file__).with_name("rehearsal.agekey")


# sops stores/tree.go: a MAC over the encrypted values only starts from sha256("sops"), so that it never
# equals a MAC over every value (getsops/sops, MACOnlyEncryptedInitialization).
MAC_ONLY_ENCRYPTED_INITIALIZATION = hashlib.sha256(b"sops").digest()


class SopsError(Exception):
    pass


def rehearsal_identity() -> str:
    """The rehearsal cluster's own age identity (its "sops-age" Secret). It protects sample data only."""
    lines = [line for line in IDENTITY_FILE.read_text().splitlines() if line.startswith("AGE-SECRET-KEY-")]
    return lines[0]


def recipient_of(identity: str) -> str:
    from pyrage import x25519

    return str(x25519.Identity.from_str(identity).to_public())


def _armor(data: bytes) -> str:
    text = base64.b64encode(data).decode()
    lines = [text[i:i + 64] for i in range(0, len(text), 64)]
    return "\n".join([ARMOR_BEGIN, *lines, ARMOR_END]) + "\n"


def _dearmor(text: str) -> bytes:
    body = text.strip().removeprefix(ARMOR_BEGIN).removesuffix(ARMOR_END)
    return base64.b64decode("".join(body.split()))


def _data_key(meta: dict[str, Any], identities: list[str]) -> bytes:
    """The file's data key, opened with one of the identities. The same file is decrypted at every reconcile of
    the Kustomization that holds it: each answer is kept for the process, by the file's age entries and the
    identities (an age decryption costs a quarter of a millisecond, a file it fails for one per entry)."""
    age = meta.get("age")
    entries = tuple(str(entry.get("enc", "")) for entry in (age if isinstance(age, list) else [])
                    if isinstance(entry, dict))  # a malformed `sops.age` opens with no key: ForeignKey, as before
    found = _opened(entries, tuple(identities))
    if found is None:
        raise ForeignKey("none of the age identities can decrypt this file's data key")
    return found


@functools.lru_cache(maxsize=256)
def _opened(entries: tuple[str, ...], identities: tuple[str, ...]) -> bytes | None:
    import pyrage
    from pyrage import x25519

    keys = [x25519.Identity.from_str(i) for i in identities]
    for entry in entries:
        try:
            return bytes(pyrage.decrypt(_dearmor(entry), keys))
        except Exception:
            continue
    return None


def _aes(key: bytes) -> Any:
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    return AESGCM(key)


def decrypt_value(value: str, key: bytes, aad: str) -> str:
    match = ENC.match(value)
    if not match:
        return value
    data, iv, tag = (base64.b64decode(match[g]) for g in ("data", "iv", "tag"))
    plain = _aes(key).decrypt(iv, data + tag, aad.encode()).decode()
    return plain


def encrypt_value(value: str, key: bytes, aad: str, kind: str = "str") -> str:
    iv = os.urandom(32)
    sealed = _aes(key).encrypt(iv, value.encode(), aad.encode())
    data, tag = sealed[:-16], sealed[-16:]
    b64 = base64.b64encode
    return f"ENC[AES256_GCM,data:{b64(data).decode()},iv:{b64(iv).decode()},tag:{b64(tag).decode()},type:{kind}]"


def _walk(node: Any, path: list[str], regex: re.Pattern[str], inside: bool, fn: Any) -> Any:
    if isinstance(node, dict):
        return {k: (v if k == "sops" and not path else
                    _walk(v, [*path, str(k)], regex, inside or bool(regex.search(str(k))), fn))
                for k, v in node.items()}
    if isinstance(node, list):
        return [_walk(v, path, regex, inside, fn) for v in node]
    if inside and node is not None:
        return fn(str(node), ":".join(path) + ":")
    return node


def decrypt(doc: dict[str, Any], identities: list[str], *, check_mac: bool = True) -> dict[str, Any]:
    """The document with every encrypted value in plain text and the ``sops`` block removed; the file's MAC
    is checked as sops checks it (a file changed without sops fails with "MAC mismatch"). The MAC covers
    the values in the file's order: a document kustomize has rewritten (keys sorted) cannot be checked."""
    meta = doc.get("sops")
    if not isinstance(meta, dict):
        return doc
    key = _data_key(meta, identities)
    regex = _go_regex(str(meta.get("encrypted_regex") or "."))
    values: list[bytes] = []

    def open_value(value: str, aad: str) -> str:
        plain = decrypt_value(value, key, aad)
        values.append(plain.encode())
        return plain

    try:
        plain = _walk(doc, [], regex, False, open_value)
        expected = decrypt_value(str(meta.get("mac", "")), key, str(meta.get("lastmodified", "")))
    except Exception as exc:
        raise SopsError(f"cannot decrypt a value: {type(exc).__name__}") from None
    if check_mac and meta.get("mac_only_encrypted"):
        digest = hashlib.sha512(MAC_ONLY_ENCRYPTED_INITIALIZATION)
        for value in values:
            digest.update(value)
        if digest.hexdigest().upper() != expected:
            raise SopsError(f"MAC mismatch: file has {expected[:16]}…, computed {digest.hexdigest().upper()[:16]}…")
    plain.pop("sops", None)
    return plain


def _go_regex(text: str) -> re.Pattern[str]:
    """A Go (RE2) regular expression as sops reads it: inline flags such as ``(?i)`` may stand anywhere."""
    flags = 0
    for flag, value in (("(?i)", re.IGNORECASE), ("(?s)", re.DOTALL), ("(?m)", re.MULTILINE)):
        if flag in text:
            text, flags = text.replace(flag, ""), flags | value
    try:
        return re.compile(text, flags)
    except re.error as exc:
        raise SopsError(f"encrypted_regex {text!r} cannot be read: {exc}") from None


class ForeignKey(SopsError):
    """The file is encrypted for recipients the rehearsal holds no identity of."""


def placeholders(doc: dict[str, Any]) -> dict[str, Any]:
    """The document with each encrypted value replaced by ``rehearsal-<key>`` (base64 under ``data``).

    A repository's SOPS files are encrypted for its owner's key, which the rehearsal never has: it
    rehearses with recognisable placeholder values instead, as if the secrets were whatever they are.
    """
    meta = doc.get("sops")
    if not isinstance(meta, dict):
        return doc
    regex = _go_regex(str(meta.get("encrypted_regex") or "."))

    def fake(value: str, aad: str) -> str:
        if not ENC.match(value):
            return value
        parts = aad.rstrip(":").split(":")
        text = "rehearsal-" + re.sub(r"[^a-z0-9]+", "-", parts[-1].lower()).strip("-")
        return base64.b64encode(text.encode()).decode() if parts[0] == "data" else text

    plain = _walk(doc, [], regex, False, fake)
    plain.pop("sops", None)
    return dict(plain)


def encrypt(doc: dict[str, Any], recipients: list[str], encrypted_regex: str = "^(data|stringData)$") -> dict[str, Any]:
    """Encrypt the values under keys matching ``encrypted_regex`` for the age recipients."""
    import pyrage
    from pyrage import x25519

    key = os.urandom(32)
    regex = _go_regex(encrypted_regex)
    digest = hashlib.sha512()
    digest.update(MAC_ONLY_ENCRYPTED_INITIALIZATION)

    def seal(value: str, aad: str) -> str:
        digest.update(value.encode())
        return encrypt_value(value, key, aad)

    out = _walk({k: v for k, v in doc.items() if k != "sops"}, [], regex, False, seal)
    modified = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    out["sops"] = {
        "age": [{"recipient": r, "enc": _armor(bytes(pyrage.encrypt(key, [x25519.Recipient.from_str(r)])))}
                for r in recipients],
        "lastmodified": modified,
        "mac": encrypt_value(digest.hexdigest().upper(), key, modified),
        "encrypted_regex": encrypted_regex,
        "mac_only_encrypted": True,
        "version": "3.11.0",
    }
    return out
