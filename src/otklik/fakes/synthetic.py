"""A labelled test set for the matcher (seeded, deterministic): claims, their variants
(paraphrase, fragment, typos, emoji and hashtags, a quote in a longer post, transliteration),
denials that quote them, and unrelated messages on the same topics (water, schools, prices,
health)."""

from __future__ import annotations

import random
from dataclasses import dataclass, field

CITIES = ("Элисте", "Лагани", "Городовиковске", "Яшкуле", "Кетченерах", "Приютном")
STREETS = ("Ленина", "Пушкина", "Горького", "Кирова", "Гагарина", "Чкалова", "Садовой")
DAYS = ("понедельника", "среды", "пятницы", "первого числа", "следующей недели")

#: Claim templates: each is specific (who, what, where, how much), as a real fake is.
CLAIMS = (
    "В {city} в водопровод попали сточные воды, вода заражена кишечной палочкой, "
    "не пейте воду из крана до {day}",
    "С {day} в школах в {city} вводят платное питание, родителей обяжут сдавать по {n}00 "
    "рублей в месяц",
    "В {city} хлеб подорожает в два раза из-за нехватки муки на хлебозаводе с {day}",
    "В {city} закрывают детскую поликлинику на улице {street}, прием детей переведут в "
    "соседний район",
    "В аптеках в {city} закончился инсулин, поставки препарата прекращены до конца года",
    "Власти в {city} отключат отопление в {n} домах на улице {street} из-за долгов "
    "управляющей компании",
    "В школе номер {n} в {city} выявили вспышку кори, занятия отменены на две недели",
    "Цены на бензин в {city} вырастут до {n}0 рублей за литр после закрытия нефтебазы",
    "В {city} на улице {street} в колодцы слили химикаты с завода, воду брать запрещено",
    "Врачи скорой помощи в {city} увольняются массово, с {day} вызовы принимать не будут",
    "В {city} пенсионерам отменят бесплатный проезд в автобусах с {day}, решение уже подписано",
    "Детский сад на улице {street} в {city} снесут, а на его месте построят торговый центр",
)

#: Word-for-word synonyms used by the paraphrase (the matcher knows the same groups).
PARAPHRASE = {
    "вода": "водичка", "воду": "водичку", "заражена": "отравлена", "школах": "учебных заведениях",
    "родителей": "родителей школьников", "обяжут": "заставят", "подорожает": "вырастет в цене",
    "закрывают": "ликвидируют", "прекращены": "остановлены", "власти": "чиновники",
    "отключат": "перекроют", "домах": "зданиях", "выявили": "обнаружили",
    "отменены": "прекращены", "вырастут": "поднимутся", "запрещено": "нельзя",
    "врачи": "медики", "снесут": "разрушат", "цены": "стоимость",
}

UNRELATED = (
    "Третий день нет воды на улице {street} в {city}, когда дадут? Дети без воды",
    "Из крана в {city} течет ржавая вода, фильтр забивается за неделю, сколько можно",
    "В школе номер {n} в {city} холодно, дети сидят на уроках в куртках",
    "Почему в {city} школьное питание такое невкусное, дети приходят голодные",
    "Хлеб в магазине на улице {street} подорожал опять, пенсии ни на что не хватает",
    "В поликлинике в {city} очередь к педиатру на месяц вперед, запишите ребенка",
    "В аптеке на {street} нет нужного лекарства от давления, когда привезут?",
    "Управляющая компания в {city} не чинит отопление в доме на улице {street}, батареи холодные",
    "Бензин в {city} снова дороже, {n}0 рублей за литр на заправке у въезда",
    "Скорая помощь в {city} ехала к бабушке больше часа, разберитесь пожалуйста",
    "Автобус номер {n} в {city} ходит раз в час, пенсионерам не доехать до больницы",
    "Во дворе детского сада на улице {street} в {city} сломаны качели, дети могут пораниться",
    "Спасибо администрации {city} за ремонт школы номер {n}, стало тепло и светло",
    "Вода в {city} по графику с 6 до 9 утра, когда наладят нормальную подачу?",
)

DENIALS = (
    "Администрация сообщает: информация о том, что {claim}, — фейк. Не верьте слухам",
    "Это неправда! В сети пишут: «{claim}». Ведомство опровергает эти сведения",
    "«{claim}» — сведения не соответствуют действительности, сообщили в мэрии",
)

_INTROS = ("Соседка переслала, говорит правда:", "Вот что пишут в нашем чате.",
           "Люди, это правда? Прочитала сегодня утром.", "Не знаю, верить или нет.")
_OUTROS = ("Что делать, куда звонить?", "Кто-нибудь знает подробности?",
           "Ужас, куда смотрят власти.", "Напишите, если слышали что-то еще.")
_EMOJI = ("😱", "‼️", "⚠️", "🔥", "😡", "🙏", "❗")
_HASHTAGS = ("#срочно", "#внимание", "#калмыкия", "#новости", "#важно")
_TRANSLIT = dict(zip("абвгдеёжзийклмнопрстуфхцчшщъыьэюя",
                     ["a", "b", "v", "g", "d", "e", "e", "zh", "z", "i", "y", "k", "l", "m",
                      "n", "o", "p", "r", "s", "t", "u", "f", "kh", "ts", "ch", "sh", "shch",
                      "", "y", "", "e", "yu", "ya"], strict=True))

KINDS = ("paraphrase", "fragment", "typos", "emoji", "quote", "translit")


@dataclass
class TestSet:
    """Claims (id → text) and labelled messages (id, text, the fake it copies or None, kind)."""

    claims: dict[str, str] = field(default_factory=dict)
    messages: list[dict[str, str | None]] = field(default_factory=list)


def _fill(template: str, rng: random.Random) -> str:
    return template.format(city=rng.choice(CITIES), street=rng.choice(STREETS),
                           day=rng.choice(DAYS), n=rng.randint(2, 9))


def paraphrase(text: str, rng: random.Random) -> str:
    """Synonyms swapped in and the two halves of the sentence exchanged."""
    out = [PARAPHRASE.get(w.lower(), w) if rng.random() < 0.8 else w for w in text.split()]
    parts = " ".join(out).split(", ", 1)
    if len(parts) == 2:
        return f"{parts[1][0].upper()}{parts[1][1:]}, а {parts[0][0].lower()}{parts[0][1:]}"
    return " ".join(out)


def fragment(text: str, rng: random.Random) -> str:
    """30-60 % of the words, a run of them from anywhere in the text."""
    tokens = text.split()
    size = max(3, round(len(tokens) * rng.uniform(0.3, 0.6)))
    start = rng.randrange(len(tokens) - size + 1)
    return " ".join(tokens[start:start + size])


def typos(text: str, rng: random.Random) -> str:
    """A letter dropped, doubled or swapped in every third word of four letters or more."""
    out = []
    for word in text.split():
        if len(word) >= 4 and rng.random() < 0.35:
            i = rng.randrange(1, len(word) - 1)
            op = rng.randrange(3)
            word = (word[:i] + word[i + 1:] if op == 0 else word[:i] + word[i] + word[i:]
                    if op == 1 else word[:i - 1] + word[i] + word[i - 1] + word[i + 1:])
        out.append(word)
    return " ".join(out)


def emoji(text: str, rng: random.Random) -> str:
    """"Срочно! Распространите!", emoji and hashtags around the text."""
    marks = "".join(rng.sample(_EMOJI, 3))
    return (f"СРОЧНО! Распространите! {marks} {text} {rng.choice(_EMOJI)} "
            f"{' '.join(rng.sample(_HASHTAGS, 2))}")


def quote(text: str, rng: random.Random) -> str:
    """The claim inside a longer post."""
    return f"{rng.choice(_INTROS)} {text}. {rng.choice(_OUTROS)}"


def translit(text: str, rng: random.Random) -> str:
    """The claim in Latin letters."""
    return "".join(_TRANSLIT.get(ch.lower(), ch) for ch in text)


VARIANTS = {"paraphrase": paraphrase, "fragment": fragment, "typos": typos, "emoji": emoji,
            "quote": quote, "translit": translit}


def generate(seed: int = 16, rounds: int = 3, unrelated: int = 600) -> TestSet:
    """One claim per template (claims that differ only in the town are one story, not
    distinct fakes), ``rounds`` variants of each kind for every claim, denials quoting the
    claims and ``unrelated`` same-topic messages."""
    rng = random.Random(seed)
    out = TestSet()
    for number, template in enumerate(CLAIMS, 1):
        out.claims[f"F{number:04d}"] = _fill(template, rng)
    for round_ in range(rounds):
        for fake_id, claim in out.claims.items():
            for kind in KINDS:
                out.messages.append({"id": f"{fake_id}-{kind}-{round_}",
                                     "text": VARIANTS[kind](claim, rng),
                                     "fake_id": fake_id, "kind": kind})
            body = claim[0].lower() + claim[1:]
            out.messages.append({"id": f"{fake_id}-denial-{round_}",
                                 "text": DENIALS[round_ % len(DENIALS)].format(claim=body),
                                 "fake_id": None, "kind": "denial"})
    for i in range(unrelated):
        out.messages.append({"id": f"U{i:05d}", "text": _fill(rng.choice(UNRELATED), rng),
                             "fake_id": None, "kind": "unrelated"})
    return out


def filler_claims(count: int, seed: int = 7) -> list[str]:
    """Registry padding for the throughput test: other claims on the same topics, each made of
    halves of two different templates' words (so no filler is a copy of a test claim)."""
    rng = random.Random(seed)
    out = []
    for _ in range(count):
        first, second = rng.sample(CLAIMS, 2)
        a, b = _fill(first, rng).split(), _fill(second, rng).split()
        words = a[: len(a) // 2] + b[len(b) // 2:]
        rng.shuffle(words)
        out.append(" ".join(words) + f" {rng.randint(1, 999)}")
    return out
