"""Which stories a short topic is about: the follow/brief/latest topic matcher on a labelled set.

    python benchmarks/topics.py [--cache ~/.cache/newsbot/topics] [--short-only] [--wrong]

Short stories (training/short_stories.py: the set's stories cut to headline and first paragraph, and
short_topics.json's 24 topics) are matched in a library of their own and reported beside the full ones.

`benchmarks/data/topic_set.json` holds 80 short topics as people follow news ("volcanic
eruptions", "labour strikes", "Japan") and, for each, 13-14 stories of the training years
(RealTime QA 2022-2024: never 2025) labelled by hand as about the topic or not: the nearest
stories by headline and lead, farther ones, one that shares a word of the topic, and stories of
the same month (hard negatives). Labels name stories by their data set id only: no text of the
data is kept in the project. The first 40 topics alternate between the `tune` part (constants
are chosen there) and the `held` part (reported, never tuned on); 20 more topics of each part
("added": drawn by `benchmarks/topic_candidates.py` and labelled on 2026-12-07, before the matcher
ran on them) double both (the standard error of the held precision about 0.016 instead of
0.023). Each part is printed whole and in those two batches.

The stories are ingested into one library (cached under --cache); each topic is then matched
against all of them by `index.retrieval.TopicMatcher`, exactly as a follow, `brief --topic` and
`latest --topic` match it. Prints precision and recall on each part and (`--wrong`) the pairs it gets
wrong. The sets are read by training/topics.py, where `python -m training.topics --fit` fits the
shipped rule on their tune parts. Needs ../shared/data/realtimeqa/.
"""

from __future__ import annotations

import argparse
import sys

from index.retrieval.topics import TopicRule
from training.topics import shipped_report


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--wrong", action="store_true", help="print the tune pairs the rule gets wrong")
    read = shipped_report(parser)
    if read is None:
        return 0
    args, sets = read
    rule = TopicRule()
    if args.wrong:
        for kind in sets:
            print(f"\nwrong on, {kind.name}, tune part (topic | headline | labelled about):")
            for topic, part, article_id, truth in kind.labelled:
                if part == "tune" and truth != rule.about(kind.features[topic][article_id]):
                    print(f"  {topic} | {kind.titles[article_id][:80]} | {truth}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
