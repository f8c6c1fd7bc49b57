"""Masking of personal data in residents' comments, before storage.

A comment is free text; residents write their BSN, phone number, e-mail address or bank
account in it "so the municipality can reach them". None of that may be stored. Dates, amounts,
postcodes, times and scores such as "8,7" must survive, or the comments lose their meaning.

The order matters: an e-mail address and an IBAN contain digit runs that look like phone
numbers or BSNs, so they are masked first; a BSN goes before phone numbers because a nine-digit
number that passes the 11-proef is far more likely a BSN than a phone number without its 0.
"""

import re

import phonenumbers

BSN, PHONE, EMAIL, IBAN = "[BSN]", "[TELEFOON]", "[E-MAIL]", "[IBAN]"

# RFC 5322 "atext" in the local part: residents do not write quoted local parts. Matching
# starts only where a run of atext starts, which keeps long comments linear.
_ATEXT = r"[\w!#$%&'*+/=?^`{|}~.-]"
_EMAIL = re.compile(rf"(?<!{_ATEXT}){_ATEXT}+@(?:[\w-]+\.)+[\w-]+")

# A country code and two check digits, then the rest either in one piece or in groups of four
# with a shorter last group (NL91 ABNA 0417 1643 00). A grouped candidate may run into a
# following short word ("... 7034 voor"); _iban_length() finds where the valid IBAN ends.
_IBAN_CANDIDATE = re.compile(
    r"\b[a-z]{2}\d{2}(?:[a-z0-9]{11,30}|(?: [a-z0-9]{4}){2,7}(?: [a-z0-9]{1,3})?)\b", re.IGNORECASE
)

# Nine digits, bare or in the usual groupings (123.456.782, 123 456 782, 1234.56.782) with
# one separator throughout, so that a date followed by a number ("12-03-2018 3") never is one.
# Not part of a longer number: "+31 612 345 678" is a phone number, not a BSN.
_BSN = re.compile(
    r"(?<![\d+])(?<!\d[ .-])"
    r"(?:\d{9}|\d{3}([ .-])\d{3}\1\d{3}|\d{4}([ .-])\d{2}\2\d{3})"
    r"(?![ .-]?\d)"
)


def _passes_11_proef(digits: str) -> bool:
    weights = (9, 8, 7, 6, 5, 4, 3, 2, -1)
    return digits != "000000000" and sum(w * int(d) for w, d in zip(weights, digits, strict=True)) % 11 == 0


def _passes_mod_97(compact: str) -> bool:
    rearranged = compact[4:] + compact[:4]
    return int("".join(str(int(c, 36)) for c in rearranged)) % 97 == 1


def _iban_length(candidate: str) -> int | None:
    """The length of the longest valid IBAN at the start of ``candidate`` that ends at a group
    end; longest first, so that a chance mod-97 match of a prefix cannot leave digits behind."""
    ends = [len(candidate)] + [i for i in range(len(candidate) - 1, 0, -1) if candidate[i] == " "]
    for end in ends:
        compact = candidate[:end].replace(" ", "").upper()
        if 15 <= len(compact) <= 34 and _passes_mod_97(compact):
            return end
    return None


def _mask_ibans(text: str) -> str:
    position = 0
    while match := _IBAN_CANDIDATE.search(text, position):
        length = _iban_length(match.group())
        if length is None:
            position = match.start() + 1
            continue
        text = text[: match.start()] + IBAN + text[match.start() + length :]
        position = match.start() + len(IBAN)
    return text


def _mask_bsns(text: str) -> str:
    def replace(match: re.Match) -> str:
        return BSN if _passes_11_proef(re.sub(r"\D", "", match.group())) else match.group()

    return _BSN.sub(replace, text)


def _is_public_short_number(number: phonenumbers.PhoneNumber) -> bool:
    # 14 + area code (14 030) is a municipality's general number: public, and residents quote it.
    return number.country_code == 31 and phonenumbers.national_significant_number(number).startswith("140")


def _mask_phone_numbers(text: str) -> str:
    # VALID leniency: the number must exist in the numbering plan, which keeps dates
    # (12-03-2018), amounts (538.000) and postcodes out; "NL" resolves numbers without +/00.
    matches = [
        match
        for match in phonenumbers.PhoneNumberMatcher(text, "NL", leniency=phonenumbers.Leniency.VALID)
        if not _is_public_short_number(match.number)
    ]
    for match in reversed(matches):
        text = text[: match.start] + PHONE + text[match.end :]
    return text


def mask_personal_data(text: str) -> str:
    """``text`` with BSNs, phone numbers, e-mail addresses and IBANs replaced by placeholders."""
    if not text:
        return text
    text = _mask_ibans(_EMAIL.sub(EMAIL, text))
    return _mask_phone_numbers(_mask_bsns(text))
