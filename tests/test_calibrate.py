"""The calibration script's "gap" reading: the article keeps its topic but loses the fact."""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))

import calibrate  # noqa: E402

from qa.types import Chunk, Hit  # noqa: E402

TEXT = ("据统计，今年一季度全省新增城镇就业42.6万人。其中，高校毕业生就业人数为18.3万人。"
        "省人社厅表示，下一步将继续加大援企稳岗力度。")


def test_without_answer_cuts_every_sentence_that_states_it() -> None:
    hit = Hit(chunk=Chunk("c1", "a1", "就业", TEXT, 100, 100 + len(TEXT), 0), score=1.0, rank=1,
              title="就业", paths=("a.txt",))
    other = Hit(chunk=Chunk("c2", "a2", "仅答案", "其中，高校毕业生就业人数为18.3万人。", 0, 19, 0),
                score=0.5, rank=2, title="仅答案", paths=("b.txt",))
    cut = calibrate.without_answer([hit, other], ["18.3万人"])
    assert len(cut) == 1  # a hit with nothing left is dropped
    text = cut[0].chunk.text
    assert "18.3万人" not in text and "42.6万人" in text and "援企稳岗" in text
    assert cut[0].chunk.end - cut[0].chunk.start == len(text)
