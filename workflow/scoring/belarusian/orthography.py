"""The two Belarusian written norms in Cyrillic: the official one (narkamaŭka, the norm of
hunspell-be and of most MT output) and the classical one (taraškievica, used by much of
the independent press).

Hand-written markers (no package detects the norm; belorthography converts official to
classical only for soft-sign assimilation and «зь», and loanwords not at all):

- classical: soft-sign assimilation, a ``ь`` between two consonants before a soft vowel
  (``сьнег``, ``зьвер``, ``сьмерць``, ``жыцьцё``, ``ньне``), ``ь`` for the official apostrophe
  (``зьяўляецца``), the prepositions ``зь``, ``бяз``, ``празь``, and
  loanword forms with soft ``л`` or ``ы``/``э`` (``плян``, ``кляса``, ``сыстэма``,
  ``Эўропа``, ``Менск``);
- official: the same consonant clusters without the ``ь`` (``снег``, ``звер``), and the
  official forms of those loanwords (``план``, ``клас``, ``сістэма``, ``Еўропа``, ``Мінск``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

NORMS = ("official", "classical")
_CLUSTER = r"(?:[сзн]|дз|ц(?=ь[цв]))"  # ць only in жыцьцё, чацьвер (official барацьба, супраць-)
_NEXT = r"(?:[нлвсзцмпбф]|дз)"
_SOFT = r"[еёіюяь]"

MARKERS: dict[str, tuple[tuple[re.Pattern[str], str], ...]] = {
    "classical": (
        (re.compile(rf"\w*{_CLUSTER}ь{_NEXT}{_SOFT}\w*", re.I), "soft-sign assimilation"),
        (re.compile(r"(?<!\w)(?:зь|бяз|безь|празь|церазь)(?!\w)", re.I), "classical preposition"),
        (re.compile(r"\w*[зс]ь[яеёю]\w*", re.I), "soft sign for the apostrophe"),
        (re.compile(r"(?<!\w)(?:плян|кляс|сыстэм|эўроп|эўрап|менск|лягер|фэдэр|газэт)\w*", re.I),
         "classical loanword form"),
    ),
    "official": (
        (re.compile(rf"\w*(?<![ьЬ]){_CLUSTER}{_NEXT}{_SOFT}\w*", re.I), "no soft-sign assimilation"),
        (re.compile(r"(?<!\w)(?:план|клас|сістэм|еўроп|еўрап|мінск|лагер|федэр|газет)\w*", re.I),
         "official loanword form"),
    ),
}
_CLASSICAL_CLUSTER = re.compile(rf"{_CLUSTER}ь{_NEXT}{_SOFT}", re.I)
# official spelling keeps the soft sign here too: the particle -сьці (калісьці, дзесьці) and the
# plural imperative (разгледзьце)
OFFICIAL_TOO = re.compile(
    r"(?:(?:калі|дзе|кім|чым|чый|чыя|чыё|чые|чаго|чаму|куды|адкуль|як|хто|што|каму|кога|нешта|чагосьці)сьці|ьце)$"
    r"|^(?:во|ва)сьм|ьмі$",  # восьмы, васьмі; людзьмі, дзецьмі
    re.I)


@dataclass(frozen=True)
class Marker:
    start: int
    end: int
    norm: str  # "official" | "classical": the norm this form belongs to
    reason: str
    form: str


@lru_cache(maxsize=16_384)  # the check reads each text twice (the document's counts, then the segment)
def markers(text: str) -> tuple[Marker, ...]:
    """Every form of ``text`` that belongs to one norm only, in text order."""
    out = []
    for norm, pats in MARKERS.items():
        for pat, reason in pats:
            for m in pat.finditer(text):
                if norm == "official" and _CLASSICAL_CLUSTER.search(m.group()):
                    continue  # a classical word that also holds an unassimilated cluster
                if norm == "classical" and OFFICIAL_TOO.search(m.group()):
                    continue
                out.append(Marker(m.start(), m.end(), norm, reason, m.group()))
    return tuple(sorted(out, key=lambda x: (x.start, x.end)))


def norm_of(counts: dict[str, int]) -> str | None:
    """The norm with more markers, None when there are none or as many of each."""
    o, c = counts.get("official", 0), counts.get("classical", 0)
    return None if o == c else ("official" if o > c else "classical")
