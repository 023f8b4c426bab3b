"""Is this a CSS colour? mermaid asks the browser (`CSS.supports('color', c)`) to split a
`box` label into colour and title, so the same question has to be answered here."""

from __future__ import annotations

import functools
import re

NAMED_COLORS = frozenset("""
aliceblue antiquewhite aqua aquamarine azure beige bisque black blanchedalmond blue
blueviolet brown burlywood cadetblue chartreuse chocolate coral cornflowerblue cornsilk
crimson cyan darkblue darkcyan darkgoldenrod darkgray darkgreen darkgrey darkkhaki
darkmagenta darkolivegreen darkorange darkorchid darkred darksalmon darkseagreen
darkslateblue darkslategray darkslategrey darkturquoise darkviolet deeppink deepskyblue
dimgray dimgrey dodgerblue firebrick floralwhite forestgreen fuchsia gainsboro ghostwhite
gold goldenrod gray green greenyellow grey honeydew hotpink indianred indigo ivory khaki
lavender lavenderblush lawngreen lemonchiffon lightblue lightcoral lightcyan
lightgoldenrodyellow lightgray lightgreen lightgrey lightpink lightsalmon lightseagreen
lightskyblue lightslategray lightslategrey lightsteelblue lightyellow lime limegreen linen
magenta maroon mediumaquamarine mediumblue mediumorchid mediumpurple mediumseagreen
mediumslateblue mediumspringgreen mediumturquoise mediumvioletred midnightblue mintcream
mistyrose moccasin navajowhite navy oldlace olive olivedrab orange orangered orchid
palegoldenrod palegreen paleturquoise palevioletred papayawhip peachpuff peru pink plum
powderblue purple rebeccapurple red rosybrown royalblue saddlebrown salmon sandybrown
seagreen seashell sienna silver skyblue slateblue slategray slategrey snow springgreen
steelblue tan teal thistle tomato turquoise violet wheat white whitesmoke yellow
yellowgreen transparent currentcolor
""".split())

_NUM = r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:e[+-]?\d+)?"
_PCT = rf"{_NUM}%"
_ALPHA = rf"(?:{_NUM}|{_PCT})"
_HUE = rf"{_NUM}(?:deg|grad|rad|turn)?"
_S = r"\s*"


def _function(name: str, first: str, rest: str) -> re.Pattern[str]:
    legacy = rf"{first}{_S},{_S}{rest}{_S},{_S}{rest}(?:{_S},{_S}{_ALPHA})?"
    modern = rf"(?:{first}|none)\s+(?:{rest}|none)\s+(?:{rest}|none)(?:{_S}/{_S}(?:{_ALPHA}|none))?"
    return re.compile(rf"{name}a?\({_S}(?:{legacy}|{modern}){_S}\)", re.IGNORECASE | re.ASCII)


@functools.cache
def _functions() -> tuple[re.Pattern[str], ...]:
    # compiled on first use: most diagrams have no coloured box
    return _function("rgb", _NUM, _NUM), _function("rgb", _PCT, _PCT), \
        _function("hsl", _HUE, _PCT)


def is_css_color(value: str) -> bool:
    """True when a browser would accept `value` as a colour (named, rgb[a](), hsl[a]())."""
    if value.lower() in NAMED_COLORS:
        return True
    return any(p.fullmatch(value) for p in _functions())
