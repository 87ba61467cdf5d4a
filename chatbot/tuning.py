"""Every judgement threshold and weight of the answer path, named in one place.

Each stage imports its own from here; change a number here and run ``chatbot eval``
(the strict score, the edit flips and the sealed-set rules in ``eval/README``) before
keeping it. Structural limits (input sizes, cache sizes) stay with the code they bound.
"""

# classify
#: Inverse regularisation of the intent model's logistic regression.
C = 32.0
#: Below this probability the top intent is not trusted.
THRESHOLD = 0.30
#: The top intent must lead the runner-up by this much, or the clause is ambiguous.
AMBIGUITY_MARGIN = 0.05

# read
#: A clause this short with no measure of its own leans on the previous turn.
SHORT_CLAUSE = 5
#: A message with more than this share of words neither English nor the snapshot's is not read.
UNREADABLE = 0.5
#: A word used by this many intents' examples is an asking word ("what", "give", "how")…
ASKING_INTENTS = 3
#: …unless fewer than this share of the snapshot's passages use it (then it names a topic).
TOPIC_DF = 0.25
#: A statement this long, told before the question proper, is a story set aside, not asked.
STORY_WORDS = 12
#: Words a lead clause ("Quick question:", "For my board paper,") may have before it is set aside.
LEAD_WORDS = 4

# carry
#: Turns a conversation remembers (older ones cannot be referred to).
MEMORY = 6
#: A follow-up keeps its own intent (not the last turn's) when classified this surely.
OWN_OP = 0.3
#: A question this short that points back ("what about capex?") borrows what it leaves out.
REFERS_WITHIN = 8
#: A question this short naming no measure, asking an op that acts on figures, acts on the last ones.
FOLLOW_UP_WORDS = 12

# resolve
#: Weights of a figure's score (one place; see ``score``).
W_MEASURE, W_MODIFIER, W_STAT, W_WORDS, W_RETRIEVAL, W_SENTENCE = 2.0, 1.5, 1.5, 2.0, 2.0, 1.0
#: Rarity (idf) of label words that counts as a full lexical match (about two telling words).
LEXICAL_FULL = 5.0
#: What each constraint a figure does not meet (a place, a year) costs it.
UNMET = 2.0
#: A panel's headline figure leads when a question asks for no kind of number.
PRIMARY = 0.6
#: Chunks fetched from the retriever for one question.
FETCH = 24
#: How much a word the snapshot never uses counts against a passage's coverage (a known
#: word counts its rarity, 1–5): "GVA per head" is not answered by a passage on the cluster.
UNKNOWN_WEIGHT = 1.0

# retrieve
#: Reciprocal-rank fusion: a chunk at rank r in a list gets weight / (RRF_K + r).
RRF_K = 60
#: Weights of the dense and keyword (BM25) lists in the fusion.
DENSE_WEIGHT = 1.0
BM25_WEIGHT = 1.0
#: Weight of an exact-token match on a term found in one chunk only, in units of a
#: first-place vote (terms found in many chunks count for less: see ``boost_weight``).
BOOST = 0.5
#: Chunks the dense (embedding) search returns before fusion.
DENSE_FETCH = 20

# facts
#: How close a quotient must come to a stated percentage to be its ratio (percentage points).
RATIO_TOLERANCE = 0.51

# verdict
#: A figure question with no measure of its own needs this score from words and retrieval.
MIN_FIGURE_SCORE = 2.2
#: A narrative answer needs a passage holding this share of the question's words.
MIN_COVERAGE = 0.4

# plan
#: A claimed number within this relative distance of the figure is "about right".
CLOSE = 0.05
#: A claim is checked against the figures scoring within this of the best fit for it.
CLAIM_WINDOW = 1.5
#: With several snapshots and none named, how many documents' figures an answer lists.
MULTI_DOCUMENTS = 5
#: How many other figures of one concept a conflict names beside the headline.
CONFLICT_OTHERS = 3

# derive
#: A second figure scoring within this of the first is the other one the question names.
CLOSE_SECOND = 1.0
#: Figures a ranking ('which is highest …') lists at most.
RANKED = 7
#: A claim's number picks the figure stating it only if that figure ranks within this of the best.
CLAIM_MARGIN = 4.0

# narrate
#: Sentences an explanation quotes at most.
MAX_SENTENCES = 3
#: Figures a section overview names at most.
OVERVIEW_FIGURES = 8
#: An overview of a topic (not a section) needs passages holding this share of its words.
TOPIC_COVERAGE = 0.6
#: A list passage holding this share of the question's words is quoted beside the answer.
LIST_COVERAGE = 0.5
#: A footnote with this many lower-case words (besides a provider's name) defines its figure.
DEFINING_WORDS = 3
#: A list item is in another passage ("which of those are also …") when this share of its words is.
ALSO_SHARE = 0.75
#: "What are the weak spots?": how many of its smallest UK shares follow the national gap.
CHALLENGE_SHARES = 2

# suggest
#: Follow-up questions offered under an answer.
MAX_SUGGESTIONS = 3
