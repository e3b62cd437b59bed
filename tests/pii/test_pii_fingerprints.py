from __future__ import annotations

from privtune.pii.fingerprints import FingerprintSet, find_leaks, fingerprint

KEY = b"k" * 32


def test_normalized_variants_share_a_fingerprint():
    assert fingerprint(KEY, "EMAIL_ADDRESS", "Alice@Example.com") == fingerprint(KEY, "EMAIL_ADDRESS", "alice@example.com")
    assert fingerprint(KEY, "PHONE_NUMBER", "+1 (415) 555-0132") == fingerprint(KEY, "PHONE_NUMBER", "415.555.0132")
    assert fingerprint(KEY, "CREDIT_CARD", "4111 1111 1111 1111") == fingerprint(KEY, "CREDIT_CARD", "4111-1111-1111-1111")
    assert fingerprint(KEY, "PERSON", "Alice") != fingerprint(KEY, "LOCATION", "Alice")
    assert fingerprint(KEY, "PERSON", "Alice") != fingerprint(b"j" * 32, "PERSON", "Alice")


def test_find_leaks_structured_and_names():
    fps = FingerprintSet([(fingerprint(KEY, "EMAIL_ADDRESS", "bob@corp.com"), "EMAIL_ADDRESS"),
                          (fingerprint(KEY, "PERSON", "Robert Paulson"), "PERSON")])
    text = "contact BOB@corp.com or robert paulson, not eve@corp.com"
    leaks = find_leaks(text, KEY, fps)
    assert ("EMAIL_ADDRESS", 8, 20) in leaks
    assert any(t == "PERSON" and text[s:e] == "robert paulson" for t, s, e in leaks)
    assert len(leaks) == 2
    assert FingerprintSet.from_json(fps.to_json()).entries == fps.entries


def test_a_lone_common_first_name_is_not_a_leak_but_a_rare_name_is():
    fps = FingerprintSet([(fingerprint(KEY, "PERSON", "Tom"), "PERSON"),
                          (fingerprint(KEY, "PERSON", "Wojciechowska"), "PERSON"),
                          (fingerprint(KEY, "PERSON", "Tom Wojciechowska"), "PERSON")])
    assert find_leaks("Thanks Tom, see you soon", KEY, fps) == []
    assert [t for t, _, _ in find_leaks("ask Wojciechowska about it", KEY, fps)] == ["PERSON"]
    text = "this is Tom Wojciechowska"
    assert any(text[s:e] == "Tom Wojciechowska" for _, s, e in find_leaks(text, KEY, fps))
