"""spaCy components and architectures; importing this package registers them."""
from . import (  # noqa: F401
    optimizer,
    place_filter,
    relation,
    relation_model,
    span_entities,
    span_entity_model,
    transformer,
)
