"""Model families, each a registered plug-in (property, expression, generation, pretrain); see ``molgen.families.base``.

Importing this package imports every family module (and so torch): the CLI does it inside the commands
that train or predict, never at start-up.
"""

from molgen.families import expression as _expression  # noqa: F401  (registers "expression")
from molgen.families import property as _property  # noqa: F401  (registers "property")
from molgen.families.base import FAMILIES, GENERATORS, Family, register_family, register_generator
from molgen.families.generation import charrnn, latent_gan, molgan, vae  # noqa: F401  (register the generators)
from molgen.families.generation import family as _generation  # noqa: F401  (registers "generation")
from molgen.families.pretraining import family as _pretraining  # noqa: F401  (registers "pretrain")

__all__ = ["FAMILIES", "GENERATORS", "Family", "register_family", "register_generator"]
