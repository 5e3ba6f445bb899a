"""Windows: question first, passages cut with overlap so that every piece is read in context."""
import pytest

from qa.reader.e5file import load_e5
from qa.reader.tokenizer import PieceTokenizer
from qa.reader.windows import BOS, EOS, make_windows, pad_batch

PASSAGE = ("国家统计局31日发布数据显示，5月份，中国制造业采购经理指数（PMI）为50.6%，比上月回落0.2个百分点，"
           "仍高于临界点。从企业规模看，大型企业PMI为51.6%，比上月上升0.5个百分点；中型企业PMI为48.8%，"
           "比上月下降1.4个百分点；小型企业PMI为50.8%，比上月上升0.5个百分点。国家统计局服务业调查中心"
           "高级统计师赵庆河表示，5月份制造业生产和需求继续恢复。")


@pytest.fixture(scope="module")
def tokenizer():
    return PieceTokenizer(load_e5().vocabulary)


def test_windows_cover_the_passage_with_overlap(tokenizer):
    q = tokenizer.encode("5月中型企业PMI是多少？")
    p = tokenizer.encode(PASSAGE)
    windows = make_windows(q, [p, tokenizer.encode("短文。")], max_len=48, max_question=16)
    first = [w for w in windows if w.passage == 0]
    assert len(first) > 2 and all(len(w.ids) <= 48 for w in windows)
    for w in windows:
        assert w.ids[0] == BOS and w.ids[w.content_start - 2 : w.content_start] == (EOS, EOS) and w.ids[-1] == EOS
        assert w.ids[1 : w.content_start - 2] == q.ids
    covered = set()
    for w in first:
        covered.update(range(w.char_starts[0], w.char_ends[-1]))
    assert covered >= {i for i, ch in enumerate(PASSAGE)}
    # consecutive windows overlap
    assert all(b.char_starts[0] < a.char_ends[-1] for a, b in zip(first, first[1:]))
    # the answer lies whole inside at least one window
    answer = PASSAGE.index("48.8%")
    assert any(w.char_starts[0] <= answer and answer + 5 <= w.char_ends[-1] for w in first)


def test_pad_batch(tokenizer):
    q = tokenizer.encode("谁表示？")
    windows = make_windows(q, [tokenizer.encode(PASSAGE), tokenizer.encode("短文。")], 64, 16)
    ids, lengths = pad_batch(windows)
    assert ids.shape == (len(windows), int(lengths.max()))
    assert all(tuple(ids[i, : lengths[i]]) == w.ids for i, w in enumerate(windows))


def test_too_short_a_window_is_refused(tokenizer):
    with pytest.raises(ValueError, match="max_len"):
        make_windows(tokenizer.encode("问"), [tokenizer.encode("答")], max_len=20, max_question=16)
