"""Hypothesis strategies shared by the fuzz tests: text as it arrives from the outside world."""
from hypothesis import strategies as st

# st.text() never draws lone surrogates, so text is built from code points: hanzi and news
# punctuation (so sentences form), ASCII, C0/C1 controls, surrogates and anything else.
_CODE_POINTS = st.one_of(
    st.integers(0x4E00, 0x9FFF),
    st.sampled_from([ord(c) for c in "。！？；…，、“”（）《》\n\n\t 0123456789%年月日电记者"]),
    st.integers(0x20, 0x7E),
    st.integers(0x00, 0x1F),
    st.integers(0x7F, 0x9F),
    st.integers(0xD800, 0xDFFF),
    st.integers(0x00A0, 0x00FF),
    st.integers(0, 0x10FFFF),
)


def messy_text(max_size: int = 400) -> st.SearchStrategy[str]:
    """Strings mixing Chinese news text with controls, lone surrogates and mojibake material."""
    return st.lists(_CODE_POINTS, max_size=max_size).map(lambda cps: "".join(map(chr, cps)))
