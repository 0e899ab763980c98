"""Text making for the demo stream: template filling, addresses, and the way people type.

Templates use ``{a|b|c}`` for a random alternative (alternatives may nest and may be empty)
and ``{slot}`` for a value drawn from the message context (address, place, numbers ...).
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from typing import Any

from otklik.demo.stream_vocab import Person, Region, Settlement, load_vocab

# Abbreviations keep village names in the nominative after any preposition ("в с. Кошки").
_TYPE_FORMS: dict[str, tuple[str, ...]] = {
    "с": ("с.", "с.", "с"),
    "п": ("п.", "пос.", "п"),
    "пгт": ("пгт", "пос.", "п."),
    "рп": ("рп", "р.п.", "пос."),
    "д": ("д.", "дер."),
    "х": ("х.", "хут."),
    "ст-ца": ("ст.", "ст-ца"),
}
_CAPITAL_CASES = {  # genitive and accusative of the regional capitals
    "Петрозаводск": ("Петрозаводска", "Петрозаводск"),
    "Тамбов": ("Тамбова", "Тамбов"),
    "Элиста": ("Элисты", "Элисту"),
    "Самара": ("Самары", "Самару"),
    "Ставрополь": ("Ставрополя", "Ставрополь"),
}
_ADJ_PREP = (("ая", "ой"), ("яя", "ей"), ("ий", "ом"), ("ый", "ом"), ("ое", "ом"), ("ее", "ем"))
# Per street type: nominative forms (abbreviated, so they read well after any preposition),
# the same for adjectival names, "на ..." forms, "на ..." forms of adjectival names.
_STREET_TYPES = {
    "ул": (
        ("ул. {}", "ул.{}", "ул. {}", "{} ул."),
        ("{} ул.", "ул. {}", "ул.{}"),
        ("на ул. {}", "на улице {}", "на {}", "на {}"),
        ("на ул. {}", "на {}", "на {}"),
    ),
    "пр": (
        ("пр. {}", "пр-т {}", "просп. {}"),
        ("{} пр.", "{} пр-т"),
        ("на пр. {}", "на проспекте {}", "на {}"),
        ("на {} проспекте", "на {}"),
    ),
    "ш": (("ш. {}",), ("{} ш.",), ("на ш. {}",), ("на {} шоссе", "на {} ш.")),
    "б": (("б-р {}",), ("{} б-р",), ("на бульваре {}", "на б-ре {}"), ("на {} бульваре",)),
    "наб": (("наб. {}",), ("{} наб.",), ("на наб. {}",), ("на {} набережной",)),
}
_MONTHS_GEN = (
    "января",
    "февраля",
    "марта",
    "апреля",
    "мая",
    "июня",
    "июля",
    "августа",
    "сентября",
    "октября",
    "ноября",
    "декабря",
)
_MONTHS_NOM = (
    "январь",
    "февраль",
    "март",
    "апрель",
    "май",
    "июнь",
    "июль",
    "август",
    "сентябрь",
    "октябрь",
    "ноябрь",
    "декабрь",
)
EMO_BAD = ("😡", "🤬", "😤", "😠", "🤦‍♀️", "🤦‍♂️", "😢", "😭", "💩", "❗️", "‼️", "🙄", "😱")
EMO_GOOD = ("👍", "🙏", "❤️", "😊", "👏", "💐", "🔥", "☺️", "🥰", "✨")


def season_of(month: int, region: str) -> str:
    """Season name for a month; Karelia's winter is longer."""
    if month in (12, 1, 2) or (region == "86" and month in (11, 3)):
        return "winter"
    if month in (3, 4, 5):
        return "spring"
    if month in (6, 7, 8):
        return "summer"
    return "autumn"


def adj_prep(word: str) -> str | None:
    """Prepositional case of an adjectival street name (``Советская`` -> ``Советской``)."""
    for end, repl in _ADJ_PREP:
        if word.endswith(end):
            return word[: -len(end)] + repl
    return None


@dataclass(frozen=True)
class Street:
    """A street parsed from the vocabulary notation (``пр:Ленина``, ``Московское ш:``)."""

    name: str
    kind: str

    @classmethod
    def parse(cls, raw: str) -> Street:
        """Parse ``type:name``, ``name type:`` or a bare name (an ``ул.``)."""
        raw = raw.rstrip("*")
        if raw.endswith(":"):
            name, kind = raw[:-1].rsplit(" ", 1)
            return cls(name, kind)
        if ":" in raw:
            kind, name = raw.split(":", 1)
            return cls(name, kind)
        return cls(raw, "ул")

    @property
    def adjective(self) -> bool:
        """True when the name agrees with the street type (``Советская улица``)."""
        return adj_prep(self.name) is not None and not any(ch.isdigit() for ch in self.name)

    def nominative(self, rng: random.Random) -> str:
        """``ул. Лаврова``, ``Советская улица``, ``пр-т Кулакова`` ..."""
        forms = _STREET_TYPES.get(self.kind, _STREET_TYPES["ул"])
        pool = forms[1] if self.adjective and rng.random() < 0.5 else forms[0]
        return rng.choice(pool).format(self.name)

    def on(self, rng: random.Random) -> str:
        """``на Лаврова``, ``на ул. Советской``, ``на Московском шоссе`` ..."""
        forms = _STREET_TYPES.get(self.kind, _STREET_TYPES["ул"])
        if self.adjective:
            prep = adj_prep(self.name) or self.name
            return rng.choice(forms[3]).format(prep)
        return rng.choice(forms[2]).format(self.name)

    def bare(self) -> str:
        """The name alone, as in ``Лаврова 5а``."""
        return self.name


@dataclass
class TextContext:
    """Everything a template may refer to for one message; values are fixed on first use."""

    rng: random.Random
    region: Region
    settlement: Settlement
    when: datetime
    person: Person | None = None
    values: dict[str, str] = field(default_factory=dict)

    def street(self, index: int = 0) -> Street:
        """The message's first (or second) street, drawn once."""
        key = f"_street{index}"
        if key not in self.values:
            pool = list(self.settlement.streets) or self.region.rural_streets
            if index and len(pool) > 1:
                pool = [s for s in pool if s != self.values.get("_street0")]
            self.values[key] = self.rng.choice(pool)
        return Street.parse(self.values[key])

    def house_no(self) -> str:
        """A house number as people write it (``5``, ``12а``, ``7/1``, ``30 к2``)."""
        if "_house" not in self.values:
            rng = self.rng
            n = int(rng.paretovariate(1.1)) if rng.random() < 0.6 else rng.randint(1, 140)
            n = min(max(n, 1), 180)
            suffix = rng.choice(("", "", "", "", "", "", "а", "б", "/1", " к2", "А", "в"))
            self.values["_house"] = f"{n}{suffix}"
        return self.values["_house"]


class TemplateFiller:
    """Fills ``{a|b}`` alternatives and ``{slot}`` values in a template."""

    def fill(self, template: str, ctx: TextContext) -> str:
        """Return the template with every brace group resolved."""
        out = self._render(_parse(template), ctx)
        out = _SPACES.sub(" ", out)
        return _SPACE_PUNCT.sub(r"\1", out).strip()

    def _render(self, nodes: tuple[Node, ...], ctx: TextContext) -> str:
        parts: list[str] = []
        for node in nodes:
            if isinstance(node, str):
                parts.append(node)
            elif node[0] == "alt":
                parts.append(self._render(ctx.rng.choice(node[1]), ctx))
            else:
                parts.append(self.slot(node[1], ctx))
        return "".join(parts)

    def slot(self, name: str, ctx: TextContext) -> str:
        """Value of one named slot (unknown names are returned unchanged in braces)."""
        rng = ctx.rng
        s = ctx.settlement
        if name in ctx.values:
            return ctx.values[name]
        value: str
        if name == "street":
            value = ctx.street(0).nominative(rng)
        elif name == "street2":
            value = ctx.street(1).nominative(rng)
        elif name == "on_street":
            value = ctx.street(0).on(rng)
        elif name == "house":
            value = house_phrase(ctx)
        elif name == "addr":
            value = addr_phrase(ctx)
        elif name == "place":
            value = place_phrase(s, rng)
        elif name == "place_nom":
            value = place_nominative(s, rng)
        elif name == "On_street_cap":
            text = ctx.street(0).on(rng)
            value = text[:1].upper() + text[1:]
        elif name == "place_cap":
            value = place_phrase(s, rng).capitalize()
        elif name == "village":
            other = rng.choice([x for x in ctx.region.settlements if not x.is_town][:40])
            value = place_nominative(other, rng)
        elif name == "capital":
            value = ctx.region.capital
        elif name in ("capital_gen", "capital_acc"):
            cases = _CAPITAL_CASES.get(ctx.region.capital, (ctx.region.capital,) * 2)
            value = cases[0] if name == "capital_gen" else cases[1]
        elif name in ("n", "n2"):
            value = str(rng.randint(2, 9) if name == "n2" else rng.randint(2, 60))
        elif name == "days":
            value = rng.choice(
                (
                    "третью неделю",
                    "уже неделю",
                    "который день",
                    f"уже {rng.randint(2, 5)} дня",
                    "с понедельника",
                    "вторую неделю",
                    "уже месяц",
                    "который месяц",
                    "со вчерашнего дня",
                    f"с {rng.randint(1, 28)} числа",
                    "с начала месяца",
                    "уже несколько дней",
                )
            )
        elif name in ("school", "clinic", "kg"):
            value = rng.choice(("№", "№ ", "номер ", "")) + str(rng.randint(1, 45))
        elif name == "bus":
            value = (
                rng.choice(("№", "№ ", ""))
                + str(rng.randint(1, 130))
                + rng.choice(("", "", "", "а", "к"))
            )
        elif name == "uk":
            value = rng.choice(load_vocab("parts")["uks"])
        elif name == "shop":
            value = rng.choice(load_vocab("parts")["shops"])
        elif name == "temp_in":
            value = (
                rng.choice(("+", ""))
                + str(rng.randint(11, 16))
                + rng.choice((" градусов", "°", "", " гр"))
            )
        elif name == "frost":
            value = frost_phrase(ctx)
        elif name == "cold":
            value = cold_phrase(ctx)
        elif name == "money":
            amount = rng.choice((rng.randint(8, 90) * 100, rng.randint(2, 9) * 1000))
            value = f"{amount:,}".replace(",", " ") + rng.choice((" ₽", " руб", " р.", " рублей"))
        elif name == "big_money":
            value = rng.choice(
                (
                    f"{rng.randint(40, 400)} тысяч",
                    f"{rng.randint(40, 400)} 000 ₽",
                    f"{rng.randint(40, 400)} тыс.",
                )
            )
        elif name == "price":
            value = f"{rng.randint(9, 45) * 10}" + rng.choice((" ₽", " руб", " р.", " рублей"))
        elif name == "fuel_price":
            value = f"{rng.randint(58, 72)},{rng.randint(0, 9)}0" + rng.choice((" ₽", " р", ""))
        elif name == "floor":
            value = str(rng.randint(5, 16))
        elif name == "year_far":
            value = str(rng.randint(28, 44))
        elif name == "year_past":
            value = str(rng.randint(12, 22))
        elif name == "month":
            value = _MONTHS_NOM[(ctx.when.month - 2) % 12]
        elif name == "date_phrase":
            value = f"{min(ctx.when.day + rng.randint(0, 3), 28)} {_MONTHS_GEN[ctx.when.month - 1]}"
        elif name == "phone":
            value = phone(rng)
        elif name == "road":
            value = rng.choice(load_vocab("parts")["roads"][ctx.region.code])
        elif name in ("head_title",):
            value = ctx.region.head
        elif name == "region_gen":
            value = ctx.region.gen
        elif name == "region_loc":
            value = ctx.region.loc
        elif name == "full_name":
            value = ctx.person.full_name if ctx.person else "Житель"
        elif name == "first_f":
            value = rng.choice(load_vocab("names")["female"])
        elif name == "spam_handle":
            value = "".join(rng.choice("abcdefghjkmnpqrstuvwxyz0123456789") for _ in range(8))
        elif name == "emo_good":
            value = rng.choice(EMO_GOOD)
        elif name == "emo_bad":
            value = rng.choice(EMO_BAD)
        else:
            value = "{" + name + "}"
        ctx.values[name] = value
        return value


def _split_top(inner: str) -> list[str]:
    """Split on ``|`` that is not inside nested braces."""
    out: list[str] = []
    cur: list[str] = []
    depth = 0
    for ch in inner:
        if ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
        if ch == "|" and depth == 0:
            out.append("".join(cur))
            cur = []
        else:
            cur.append(ch)
    out.append("".join(cur))
    return out


Node = str | tuple[str, Any]
_SPACES = re.compile(r"[ \t]{2,}")
_SPACE_PUNCT = re.compile(r" +([,.!?])")


@lru_cache(maxsize=4096)
def _parse(text: str) -> tuple[Node, ...]:
    """Parse a template once: text, ``("alt", options)`` and ``("slot", name)`` nodes."""
    nodes: list[Node] = []
    i, buf = 0, []
    while i < len(text):
        ch = text[i]
        if ch != "{":
            buf.append(ch)
            i += 1
            continue
        if buf:
            nodes.append("".join(buf))
            buf = []
        depth, j = 1, i + 1
        while j < len(text) and depth:
            depth += {"{": 1, "}": -1}.get(text[j], 0)
            j += 1
        inner = text[i + 1 : j - 1]
        options = _split_top(inner)
        if len(options) > 1:
            nodes.append(("alt", tuple(_parse(o) for o in options)))
        else:
            nodes.append(("slot", inner))
        i = j
    if buf:
        nodes.append("".join(buf))
    return tuple(nodes)


def place_nominative(s: Settlement, rng: random.Random) -> str:
    """``Мичуринск`` or ``с. Кошки``."""
    if s.is_town:
        return s.name
    return f"{rng.choice(_TYPE_FORMS.get(s.type, ('п.',)))} {s.name}"


def place_phrase(s: Settlement, rng: random.Random) -> str:
    """``в Мичуринске`` or ``в с. Кошки`` (a type word avoids declining village names)."""
    if s.is_town and s.loc:
        return f"в {s.loc}"
    return f"в {place_nominative(s, rng)}"


def house_phrase(ctx: TextContext) -> str:
    """A house address as a noun phrase, in one of the many ways residents write it."""
    rng, st, no = ctx.rng, ctx.street(0), ctx.house_no()
    forms = (
        f"{st.nominative(rng)}, д. {no}",
        f"{st.bare()} {no}",
        f"{st.nominative(rng)} {no}",
        f"{st.bare()}, {no}",
        f"{st.nominative(rng)}, д.{no}",
        f"{st.nominative(rng)}, {no}",
    )
    text = rng.choice(forms)
    if not ctx.settlement.is_town and rng.random() < 0.6:
        text = f"{place_nominative(ctx.settlement, rng)}, {text}"
    return text


def addr_phrase(ctx: TextContext) -> str:
    """Where: ``на Лаврова``, ``на ул. Советской 12``, ``в мкр Северный``, ``в с. Кошки`` ..."""
    rng, s = ctx.rng, ctx.settlement
    st = ctx.street(0)
    if not s.is_town:
        village = place_phrase(s, rng)
        options = [
            village,
            f"{village} {st.on(rng)}",
            f"{village}, {st.nominative(rng)}",
            f"{village} {st.on(rng)} {ctx.house_no()}",
        ]
        if s.district:
            options.append(f"{village} ({s.district.replace('район', 'р-н')})")
        return rng.choice(options)
    options = [
        st.on(rng),
        f"{st.on(rng)} {ctx.house_no()}",
        f"по адресу {house_phrase(ctx)}",
        f"возле дома {ctx.house_no()} по {st.nominative(rng)}",
        st.on(rng),
        f"в доме №{ctx.house_no()} {st.on(rng)}",
        f"{place_phrase(s, rng)} {st.on(rng)}",
    ]
    if s.micro:
        micro = rng.choice(s.micro)
        if micro.endswith(" р-н"):
            prep = adj_prep(micro[:-4]) or micro[:-4]
            options.extend((f"в {prep} р-не", f"в {prep} районе"))
        else:
            options.extend((f"в мкр {micro}", f"в районе {micro}", f"мкр. {micro}"))
    return rng.choice(options)


def frost_phrase(ctx: TextContext) -> str:
    """Outside temperature words that fit the message's month."""
    rng, month = ctx.rng, ctx.when.month
    if month in (11, 12, 1, 2, 3):
        return rng.choice(
            (
                f"-{rng.randint(8, 27)}",
                f"мороз {rng.randint(10, 25)}",
                f"минус {rng.randint(8, 25)}",
            )
        )
    if month in (4, 10):
        return rng.choice(("ночью уже минус", f"+{rng.randint(2, 6)}", "ночью заморозки"))
    return rng.choice(("холодно", "сыро и холодно"))


def cold_phrase(ctx: TextContext) -> str:
    """A clause about the weather for the water outage story."""
    rng, month = ctx.rng, ctx.when.month
    if month in (11, 12, 1, 2, 3):
        return rng.choice(
            (
                f"На улице мороз {rng.randint(8, 22)}",
                "Мороз, трубы перемерзают",
                f"А на улице -{rng.randint(8, 22)}",
                "В такой мороз",
            )
        )
    if month in (4, 10):
        return rng.choice(("По ночам уже минус", "Холодно, ночью заморозки", "На улице холод"))
    return rng.choice(("Жара под сорок", "В такую жару", "На улице жара"))


def phone(rng: random.Random) -> str:
    """A made-up Russian mobile number in one of the common spellings."""
    d = [rng.randint(0, 9) for _ in range(7)]
    code = rng.choice((900, 903, 905, 906, 909, 915, 920, 927, 928, 937, 960, 961, 988, 996))
    body = "".join(map(str, d))
    return rng.choice(
        (
            f"8-{code}-{body[:3]}-{body[3:5]}-{body[5:]}",
            f"+7{code}{body}",
            f"8{code}{body}",
            f"+7 ({code}) {body[:3]}-{body[3:5]}-{body[5:]}",
            f"8 {code} {body[:3]} {body[3:5]} {body[5:]}",
        )
    )


# Spellings people actually use; each entry: word -> replacements (case kept).
_SLANG: dict[str, tuple[str, ...]] = {
    "сейчас": ("щас", "ща", "счас"),
    "когда": ("када", "кагда", "когда"),
    "вообще": ("ваще", "вобще", "вообще"),
    "что": ("чё", "што", "че"),
    "пожалуйста": ("пожалуста", "пжлст", "плиз", "пж", "пожалуйста"),
    "спасибо": ("спс", "пасиб", "спасиб"),
    "сколько": ("скока", "скоко"),
    "только": ("тока", "токо"),
    "ничего": ("ничо", "ниче"),
    "конечно": ("канешно", "конеш"),
    "здравствуйте": ("здрасте", "здраствуйте", "здрасьте"),
    "извините": ("извените",),
    "очень": ("оч", "очинь"),
    "нормально": ("норм",),
    "здесь": ("сдесь", "тут"),
    "тоже": ("тож",),
    "почему": ("почиму", "пачему", "чего"),
    "сегодня": ("седня", "сёдня"),
    "администрация": ("админстрация", "адмистрация", "администрацыя"),
    "мусорку": ("мусорку",),
    "мусорка": ("мусорка",),
    "кладут": ("ложат",),
    "звонят": ("звонют",),
    "вызвать": ("вызвать",),
    "человек": ("чел",),
    "подскажите": ("подскажите", "подскожите", "подскажыте"),
    "ребята": ("ребят", "народ"),
}
_VOWEL_SWAP = {"о": "а", "а": "о", "е": "и", "и": "е"}
_WORD_RE = re.compile(r"[А-Яа-яЁё]+")


def _keep_case(src: str, repl: str) -> str:
    if src.isupper() and len(src) > 1:
        return repl.upper()
    if src[:1].isupper():
        return repl[:1].upper() + repl[1:]
    return repl


def _typo(word: str, rng: random.Random) -> str:
    """One realistic misspelling: unstressed vowel, dropped, doubled or swapped letter."""
    if len(word) < 5:
        return word
    i = rng.randint(1, len(word) - 2)
    kind = rng.random()
    if kind < 0.4 and word[i].lower() in _VOWEL_SWAP:
        return word[:i] + _VOWEL_SWAP[word[i].lower()] + word[i + 1 :]
    if kind < 0.6:
        return word[:i] + word[i + 1 :]
    if kind < 0.8:
        return word[:i] + word[i] + word[i:]
    return word[:i] + word[i + 1] + word[i] + word[i + 2 :]


def naturalize(text: str, style: str, rng: random.Random, tone: str = "neutral") -> str:
    """Make a clean template text look typed by a person of the given style.

    Styles: ``normal``, ``careless``, ``angry``, ``elderly``, ``young``, ``formal`` (e-mail,
    forms, official posts: left as written). ``tone`` is ``bad``/``good``/``neutral`` and
    picks the emoji.
    """
    if style == "formal":
        return text
    p_slang = {"careless": 0.55, "young": 0.7, "angry": 0.25, "normal": 0.08}.get(style, 0.0)
    p_typo = {"careless": 0.5, "young": 0.3, "angry": 0.3, "normal": 0.12, "elderly": 0.15}[style]
    if p_slang:

        def swap(m: re.Match[str]) -> str:
            w = m.group(0)
            options = _SLANG.get(w.lower())
            if options and rng.random() < p_slang:
                return _keep_case(w, rng.choice(options))
            return w

        text = _WORD_RE.sub(swap, text)
    if rng.random() < p_typo:
        words = text.split(" ")
        for _ in range(rng.randint(1, 2)):
            k = rng.randrange(len(words))
            words[k] = _typo(words[k], rng)
        text = " ".join(words)
    if style != "elderly" and rng.random() < 0.6:
        text = text.replace("ё", "е")
    if style in ("careless", "young"):
        if rng.random() < 0.6:
            text = text[:1].lower() + text[1:]
        if rng.random() < 0.5:
            text = text.replace(", ", " ")
        if rng.random() < 0.4:
            text = re.sub(r"\.(\s|$)", r"\1", text)
        if style == "young" and rng.random() < 0.35:
            text = text.rstrip(".!") + rng.choice((")))", "((", " ахах", " капец", " жесть", ")"))
    elif style == "angry":
        if rng.random() < 0.3:
            text = text.upper()
        else:
            text = re.sub(r"[!?.]$", lambda m: m.group(0) * rng.randint(2, 5), text)
            if rng.random() < 0.4:
                words = text.split(" ")
                k = rng.randrange(len(words))
                words[k] = words[k].upper()
                text = " ".join(words)
    elif style == "elderly":
        if rng.random() < 0.2:
            text = text.upper()
        if rng.random() < 0.35:
            text = text.replace(". ", "... ").replace("!", "!!")
    elif style == "normal" and rng.random() < 0.3:
        text = text.rstrip(".")
    p_emoji = {"young": 0.5, "angry": 0.5, "careless": 0.25, "normal": 0.15}.get(style, 0.02)
    if rng.random() < p_emoji:
        pool = EMO_GOOD if tone == "good" else EMO_BAD if tone == "bad" else EMO_GOOD + EMO_BAD
        emo = rng.choice(pool) * rng.choice((1, 1, 2, 3))
        text = f"{text} {emo}" if rng.random() < 0.85 else f"{emo} {text}"
    return text
