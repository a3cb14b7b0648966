"""One vocabulary: the body regions and the guidelines that letters, the precedent library,
the knowledge base and the evaluation all name.

The knowledge is in data files beside this module (`regions.yaml`, `guidelines.yaml`),
validated at first use by the pydantic models of `openimr.vocab.data`; a bad file raises
`VocabError` naming the file and the field.
"""

from openimr.vocab.data import VocabError
from openimr.vocab.regions import Region, find_region, prefer_level, region, region_key, region_keys, regions, regions_in

__all__ = ["Region", "VocabError", "find_region", "prefer_level", "region", "region_key", "region_keys", "regions", "regions_in"]
