"""spaCy components and architectures; importing this package registers them."""
from . import optimizer, relation, relation_model, transformer  # noqa: F401
