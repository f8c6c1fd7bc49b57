"""Personal data with a shape: found by patterns and check digits, not by word lists.

BSNs (11-proef), IBANs (mod 97), phone numbers (the numbering plan, by phonenumbers), e-mail
addresses (also written as "piet (at) hotmail.com"), postcodes with a house number, dates of
birth, Dutch licence plates and document numbers. Appointment dates, amounts, times, years, a
postcode without a house number and scores such as "8,7" keep their shape and survive.

The order in ``mask_identifiers`` matters: an e-mail address and an IBAN contain digit runs that
look like phone numbers or BSNs, so they go first; a BSN goes before phone numbers because a
nine-digit number that passes the 11-proef is far more likely a BSN than a phone number without
its 0; a phone number goes before the patterns, whose digit groups it may hold.
"""

import re

import phonenumbers

BSN, PHONE, EMAIL, IBAN = "[BSN]", "[TELEFOON]", "[E-MAIL]", "[IBAN]"
POSTCODE, BIRTH_DATE, PLATE, DOCUMENT = "[POSTCODE]", "[GEBOORTEDATUM]", "[KENTEKEN]", "[DOCUMENTNUMMER]"

# RFC 5322 "atext" in the local part: residents do not write quoted local parts. Matching
# starts only where a run of atext starts, which keeps long comments linear.
_ATEXT = r"[\w!#$%&'*+/=?^`{|}~.-]"
_EMAIL = re.compile(rf"(?<!{_ATEXT}){_ATEXT}+@(?:[\w-]+\.)+[\w-]+")

# "piet (at) hotmail.com", "piet [at] hotmail [dot] com", "piet apenstaartje ziggo punt nl":
# an obfuscated @ and a domain that ends in a common top-level domain, so that "at" in an
# English sentence ("I was at the desk") is never one.
_AT = r"(?:\s*[(\[{<]\s*(?:at|a|@|apenstaartje)\s*[)\]}>]\s*|\s+(?:at|apenstaartje)\s+|\s+@\s*|\s*@\s+)"
_DOT = r"(?:\s*[(\[{<]\s*(?:dot|punt)\s*[)\]}>]\s*|\s+(?:dot|punt)\s+|\s*\.\s*)"
_TLD = r"(?:[a-z]{2}|com|net|org|info|eu|biz|online)"  # any country's, and the common generic ones
_OBFUSCATED_EMAIL = re.compile(rf"(?<![\w.-])[\w.+-]+{_AT}(?:[\w-]+{_DOT})+{_TLD}\b(?![.-]?\w)", re.IGNORECASE)

# 3511 AB 12, 3511AB 12-bis, 3511 ab, nr. 12: a postcode with its house number identifies a
# household. The letters SA, SD and SS are never issued; a postcode alone names a street. Two
# letters that are a short word ("2019 om 9", "2018 en 3") make no postcode.
_POSTCODE_HOUSE_NUMBER = re.compile(
    r"\b[1-9]\d{3}\s?(?!sa|sd|ss|(?-i:om|en|in|op|te|of|is|at|to|on|an|as|by|or|it|na|al|nu|zo|er|nr)\b)"
    r"[a-z]{2}[\s,]+(?:(?:huisnummer|huisnr\.?|nr\.?|nummer)\s*)?\d{1,5}"
    r"(?:\s?[a-z]\b|-\w{1,4})?(?![,.]?\d)",
    re.IGNORECASE,
)

# A date after a word that says it is a birth date: "geboren 12-03-1980", "geb. 12 maart 1980",
# "geboortedatum: 1980-03-12", "born on 12/03/1980", "date of birth 12 March 1980".
_MONTHS = (
    r"jan(?:uari|uary)?|feb(?:ruari|ruary)?|maart|mrt|mar(?:ch)?|apr(?:il)?|mei|may|jun[ei]?|jul[iy]?"
    r"|aug(?:ustus|ust)?|sep(?:t(?:ember)?)?|okt(?:ober)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?"
)
_DATE = (
    rf"(?:\d{{1,2}}[-/. ]\d{{1,2}}[-/. ](?:19|20)?\d{{2}}|(?:19|20)\d{{2}}[-/.]\d{{1,2}}[-/.]\d{{1,2}}"
    rf"|\d{{1,2}}(?:e|st|nd|rd|th)?\s+(?:{_MONTHS})\.?\s+(?:19|20)\d{{2}}"
    rf"|(?:{_MONTHS})\.?\s+\d{{1,2}}(?:st|nd|rd|th)?,?\s+(?:19|20)\d{{2}})"
)
_BIRTH_DATE = re.compile(
    rf"(?P<context>\b(?:geboren|geb\.?(?:\s?datum)?|geboortedatum|geboortedag|born|date\s+of\s+birth"
    rf"|birth\s*date|d\.?o\.?b\.?)(?!\w)[^\d.!?\n]{{0,40}}?){_DATE}(?!\d)",
    re.IGNORECASE,
)

# The Dutch licence-plate side codes (sidecodes 1-14): three groups of letters and digits with
# hyphens, never all digits (that is a date). Plates use no vowels since sidecode 5, but older
# plates do, so letters are letters.
_PLATE = re.compile(
    r"(?<![\w-])(?:[a-z]{2}-\d{2}-\d{2}|\d{2}-\d{2}-[a-z]{2}|\d{2}-[a-z]{2}-\d{2}|[a-z]{2}-\d{2}-[a-z]{2}"
    r"|[a-z]{2}-[a-z]{2}-\d{2}|\d{2}-[a-z]{2}-[a-z]{2}|\d{2}-[a-z]{3}-\d|\d-[a-z]{3}-\d{2}|[a-z]{2}-\d{3}-[a-z]"
    r"|[a-z]-\d{3}-[a-z]{2}|[a-z]{3}-\d{2}-[a-z]|[a-z]-\d{2}-[a-z]{3}|\d-[a-z]{2}-\d{3}|\d{3}-[a-z]{2}-\d)(?![\w-])",
    re.IGNORECASE,
)

# A Dutch passport or identity card number (two letters, six letters or digits, a digit; no O),
# written in capitals with at least two digits, and any run of seven or more digits that is not
# a phone number or a BSN: a driving licence, a case or a customer number points at one person.
_DOCUMENT_NUMBER = re.compile(r"\b(?=(?:[A-NP-Z]*\d){2})[A-NP-Z]{2}[A-NP-Z0-9]{6}\d\b")
_LONG_NUMBER = re.compile(r"(?<![\w,.])\d{7,}(?![,.]?\d|\w)")

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


def _mask_birth_dates(text: str) -> str:
    return _BIRTH_DATE.sub(lambda match: match.group("context") + BIRTH_DATE, text)


def mask_identifiers(text: str) -> str:
    """``text`` with every identifier that has a shape replaced by its placeholder."""
    text = _OBFUSCATED_EMAIL.sub(EMAIL, _EMAIL.sub(EMAIL, text))
    text = _mask_phone_numbers(_mask_bsns(_mask_ibans(text)))
    text = _PLATE.sub(PLATE, _POSTCODE_HOUSE_NUMBER.sub(POSTCODE, _mask_birth_dates(text)))
    return _LONG_NUMBER.sub(DOCUMENT, _DOCUMENT_NUMBER.sub(DOCUMENT, text))
