"""Personal data in residents' comments is masked before storage; ordinary numbers stay."""

import re

import phonenumbers
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from surveys.responses.masking import mask_personal_data
from surveys.responses.models import Response

WORDS = (
    "ik heb gebeld over mijn paspoort en de medewerker was erg vriendelijk maar het duurde lang "
    "graag terugbellen op mijn nummer u kunt mij bereiken via of mailen naar bedankt voor de hulp "
    "mijn rekeningnummer is het burgerservicenummer staat op de brief"
).split()
# Must survive next to the masked value, so they are also mixed into the generated comments.
UNTOUCHED = [
    "op 12-03-2018",
    "op 12/03/2018",
    "sinds 2018-03-12",
    "op 14 maart 2019",
    "om 18.15 uur",
    "€ 1.234,56",
    "EUR 250",
    "538.000 bezoeken",
    "3511 AB Utrecht",
    "postcode 3511AB",
    "huisnummer 12",
    "in 2017",
    "85% tevreden",
    "bel 14 030",
    "een 7,4",
    "de balie scoort een 8,7",
]

# No deadline: phonenumbers loads a region's metadata on first use, and timing is not what these
# tests are about (a busy machine would make them flaky).
no_deadline = settings(deadline=None)

words = st.lists(st.sampled_from(WORDS), min_size=1, max_size=8).map(" ".join)


@st.composite
def comments_with(draw, values):
    """A Dutch comment with ``value`` somewhere in it; returns (comment, value, untouched phrase)."""
    value = draw(values)
    phrase = draw(st.sampled_from(UNTOUCHED))
    before, after = draw(words), draw(words)
    punctuation = draw(st.sampled_from(["", ".", ",", ":", "!", ")"]))
    text = draw(
        st.sampled_from(
            [
                f"{phrase} {before} {value}{punctuation} {after}",
                f"{before} {value}{punctuation} {after} {phrase}",
                f"{value}{punctuation} {before}",
                f"{before} ({value}) {after}",
            ]
        )
    )
    return text, value, (phrase if phrase in text else "")


# --- BSN ------------------------------------------------------------------------------------


@st.composite
def bsns(draw):
    """Eight random digits and the check digit that makes the 11-proef hold."""
    digits = draw(st.lists(st.integers(0, 9), min_size=8, max_size=8))
    check = sum(w * d for w, d in zip(range(9, 1, -1), digits, strict=True)) % 11
    assume(check != 10 and any(digits))
    bsn = "".join(map(str, digits)) + str(check)
    return draw(
        st.sampled_from(
            [
                bsn,
                f"{bsn[:3]}.{bsn[3:6]}.{bsn[6:]}",
                f"{bsn[:3]} {bsn[3:6]} {bsn[6:]}",
                f"{bsn[:3]}-{bsn[3:6]}-{bsn[6:]}",
            ]
            + [f"{bsn[:4]}.{bsn[4:6]}.{bsn[6:]}"]
        )
    )


def digits_of(value: str) -> str:
    return re.sub(r"\D", "", value)


def assert_masked(text: str, value: str, phrase: str, placeholder: str) -> None:
    masked = mask_personal_data(text)
    assert placeholder in masked
    assert value not in masked
    assert digits_of(value) not in digits_of(masked)
    assert phrase in masked


@no_deadline
@given(comments_with(bsns()))
def test_valid_bsn_becomes_placeholder(example):
    assert_masked(*example, "[BSN]")


@no_deadline
@given(st.integers(100_000_000, 999_999_999))
def test_nine_digit_number_failing_11_proef_is_no_bsn(number):
    digits = str(number)
    assume(sum(w * int(d) for w, d in zip((9, 8, 7, 6, 5, 4, 3, 2, -1), digits, strict=True)) % 11 != 0)
    assert "[BSN]" not in mask_personal_data(f"klantnummer {digits} staat op de brief")


# --- phone numbers --------------------------------------------------------------------------


@st.composite
def dutch_mobile_numbers(draw):
    rest = draw(st.sampled_from("12345")) + draw(st.text("0123456789", min_size=7, max_size=7))
    return draw(
        st.sampled_from(
            [
                f"06-{rest}",
                f"06 {rest[:4]} {rest[4:]}",
                f"06{rest}",
                f"06 {rest[:2]} {rest[2:4]} {rest[4:6]} {rest[6:]}",
                f"+31 6 {rest}",
                f"+316{rest}",
                f"0031{6}{rest}",
                f"0031 6 {rest}",
            ]
        )
    )


@st.composite
def dutch_landline_numbers(draw):
    area = draw(st.sampled_from(["10", "20", "30", "40", "50", "70", "346", "294", "35"]))
    rest = draw(st.sampled_from("23456789")) + draw(
        st.text("0123456789", min_size=8 - len(area), max_size=8 - len(area))
    )
    return draw(
        st.sampled_from(
            [
                f"0{area}-{rest}",
                f"0{area} {rest}",
                f"0{area}{rest}",
                f"(0{area}) {rest[:3]} {rest[3:5]} {rest[5:]}",
                f"0{area} {rest[:3]} {rest[3:]}",
                f"+31 {area} {rest}",
                f"0031{area}{rest}",
            ]
        )
    )


@st.composite
def international_numbers(draw):
    region = draw(st.sampled_from(["GB", "DE", "BE", "FR", "US", "ES", "PL", "TR", "MA", "SR"]))
    kind = draw(st.sampled_from([phonenumbers.PhoneNumberType.MOBILE, phonenumbers.PhoneNumberType.FIXED_LINE]))
    example = phonenumbers.example_number_for_type(region, kind)
    national = phonenumbers.national_significant_number(example)
    tail = draw(st.text("0123456789", min_size=4, max_size=4))
    number = phonenumbers.parse(f"+{example.country_code}{national[:-4]}{tail}")
    assume(phonenumbers.is_valid_number(number))
    international = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)
    e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    return draw(st.sampled_from([international, e164, "00" + e164[1:], "00" + international[1:]]))


@no_deadline
@given(comments_with(st.one_of(dutch_mobile_numbers(), dutch_landline_numbers(), international_numbers())))
def test_phone_number_becomes_placeholder(example):
    assert_masked(*example, "[TELEFOON]")


# --- e-mail addresses -----------------------------------------------------------------------


@no_deadline
@given(comments_with(st.emails()))
def test_email_address_becomes_placeholder(example):
    text, address, phrase = example
    masked = mask_personal_data(text)
    assert "[E-MAIL]" in masked
    assert address not in masked
    assert "@" not in masked
    assert phrase in masked


# --- IBANs ----------------------------------------------------------------------------------


def iban_check_digits(country: str, bban: str) -> str:
    numeric = "".join(str(int(c, 36)) for c in bban + country + "00")
    return f"{98 - int(numeric) % 97:02d}"


@st.composite
def dutch_ibans(draw):
    bank = draw(st.sampled_from(["ABNA", "INGB", "RABO", "SNSB", "ASNB", "TRIO", "BUNQ", "KNAB"]))
    account = draw(st.text("0123456789", min_size=10, max_size=10))
    iban = f"NL{iban_check_digits('NL', bank + account)}{bank}{account}"
    grouped = " ".join(iban[i : i + 4] for i in range(0, len(iban), 4))
    return draw(st.sampled_from([iban, grouped, iban.lower(), grouped.lower()]))


@no_deadline
@given(comments_with(dutch_ibans()))
def test_dutch_iban_becomes_placeholder(example):
    assert_masked(*example, "[IBAN]")


@pytest.mark.parametrize(
    "iban",
    [
        "NL91ABNA0417164300",
        "NL91 ABNA 0417 1643 00",
        "nl91abna0417164300",
        "BE68 5390 0754 7034",
        "DE89 3704 0044 0532 0130 00",
        "GB29 NWBK 6016 1331 9268 19",
        "FR14 2004 1010 0505 0001 3M02 606",
    ],
)
def test_iban_examples_become_placeholder(iban):
    assert mask_personal_data(f"Maak het over naar {iban} voor mij") == "Maak het over naar [IBAN] voor mij"


def test_iban_with_wrong_check_digits_is_left_alone():
    assert mask_personal_data("code NL92ABNA0417164300") == "code NL92ABNA0417164300"


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("tel:0612345678", "tel:[TELEFOON]"),
        ("T: +31 (0)30 286 0000", "T: [TELEFOON]"),
        ("mob. 06 - 12345678, graag na 17.00 uur", "mob. [TELEFOON], graag na 17.00 uur"),
        ("bel 14 030 of 06-12345678", "bel 14 030 of [TELEFOON]"),
        ("bsn:123456782", "bsn:[BSN]"),
        ("BSN 1234.56.782", "BSN [BSN]"),
        ("mail:<j.jansen@example.nl>", "mail:<[E-MAIL]>"),
        ("IBAN:NL91ABNA0417164300.", "IBAN:[IBAN]."),
    ],
)
def test_notations_residents_use(text, masked):
    assert mask_personal_data(text) == masked


# --- what must stay -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        *UNTOUCHED,
        "Afspraak op 12-03-2018 om 18.15 uur, daarna 14 maart 2019 nog een keer.",
        "De leges waren € 1.234,56 en daarna nog EUR 250.",
        "De website had in 2018 538.000 bezoeken, 12% meer dan in 2017.",
        "Stadskantoor, 3521 AZ Utrecht; Postbus 16200, 3500 CE Utrecht.",
        "Het klantcontactcentrum is bereikbaar via 14 030 tussen 9.00 en 17.00 uur.",
        "Rapportcijfer 7,4 in 2017 en 8,7 in 2018; 1.234.567 inwoners.",
        "Gemiddelde wachttijd 00:04:12 en 3,5 minuten.",
    ],
)
def test_ordinary_numbers_stay_untouched(text):
    assert mask_personal_data(text) == text


def test_everything_in_one_comment():
    masked = mask_personal_data(
        "BSN 123.456.782, bel 06-12345678 of +44 20 7946 0958, mail jan@example.nl, "
        "rekening NL91 ABNA 0417 1643 00. Was er op 12-03-2018, een 8,7!"
    )
    assert (
        masked
        == "BSN [BSN], bel [TELEFOON] of [TELEFOON], mail [E-MAIL], rekening [IBAN]. Was er op 12-03-2018, een 8,7!"
    )


def test_empty_comment_stays_empty():
    assert mask_personal_data("") == ""


# --- through the residents' form ------------------------------------------------------------


@pytest.mark.django_db
def test_form_stores_the_masked_comment(client, invitation):
    comment = (
        "Mijn BSN is 123456782, bel me op 06 1234 5678 of mail naar j.jansen@example.nl. Op 12-03-2018 was het druk."
    )
    page = client.post(f"/s/{invitation.token}/", {"score": "6", "comment": comment}, follow=True)
    assert "Bedankt voor uw mening!" in page.content.decode()
    stored = Response.objects.get().comment
    assert stored == "Mijn BSN is [BSN], bel me op [TELEFOON] of mail naar [E-MAIL]. Op 12-03-2018 was het druk."
    for original in ("123456782", "1234 5678", "j.jansen@example.nl"):
        assert original not in stored
