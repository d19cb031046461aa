"""Registers the `generated-data` dataparser with nerfstudio (entry point ``nerfstudio.dataparser_configs``).

Kept tiny: nerfstudio builds its dataparser list while importing ``nerfstudio.configs.dataparser_configs``, so this
module must not import datamanagers or method configs (they import that module back).
"""

from nerfstudio.plugins.registry_dataparser import DataParserSpecification

from datagen.dataparser import GeneratedDataParserConfig

generated_data = DataParserSpecification(
    config=GeneratedDataParserConfig(),
    description="datagen datasets: poses as written (object at the origin, +z up), per-frame time/view/orbit kept",
)
