"""The password policy: at least :data:`MIN_LENGTH` characters, not one of the passwords
every guessing list starts with, not the login itself. Checked when a password is set
(a new user, a change, an administrator's reset); one clear error names what is wrong."""

from __future__ import annotations

from otklik.errors import InvalidInput

MIN_LENGTH = 10

#: The start of every guessing list (leaked-password tops, Russian keyboard walks and words);
#: compared without case, spaces, hyphens and dots.
COMMON = frozenset("""
123456789012 1234567890 0123456789 1111111111 0000000000 1q2w3e4r5t 1q2w3e4r5t6y
qwertyuiop qwerty12345 qwerty123456 qwertyqwerty 1qaz2wsx3edc zaq12wsxcde asdfghjkl
asdfghjkl1 zxcvbnm123 password12 password123 password1234 passw0rd12 p4ssw0rd12
iloveyou12 administrator admin12345 admin123456 letmein123 welcome123 changeme12
changeme123 football12 baseball12 superman12 monkey1234 dragon1234 sunshine12
princess12 trustno1trustno1 abc1234567 abcdef1234 abcdefghij 987654321 9876543210
qazwsxedcrfv 1234qwerasdf йцукенгшщз йцукен1234 ячсмитьбю пароль1234 пароль12345
парольпароль привет1234 привет12345 любовь1234 qwerty2024 qwerty2025 qwerty2026
password2024 password2025 password2026 otklik1234 otklik12345 otklikotklik demodemo12
""".split())


def _folded(text: str) -> str:
    return "".join(ch for ch in text.casefold() if ch not in " -_.")


def check(password: str, username: str | None = None) -> None:
    """Refuse a password the policy does not allow, saying why (in Russian and English)."""
    if len(password) < MIN_LENGTH:
        raise InvalidInput(
            f"пароль слишком короткий: нужно не меньше {MIN_LENGTH} символов / the password "
            f"must have at least {MIN_LENGTH} characters")
    if username and _folded(password) == _folded(username):
        raise InvalidInput("пароль не может совпадать с логином / the password must not be "
                           "the username")
    folded = _folded(password)
    if folded in COMMON or len(set(folded)) <= 2:
        raise InvalidInput("этот пароль слишком распространён, его подберут первым: выберите "
                           "другой / this password is too common and would be guessed first: "
                           "choose another")
