"""Registers the `generated-data` dataparser (placeholder until the parser lands)."""

from nerfstudio.data.dataparsers.nerfstudio_dataparser import NerfstudioDataParserConfig
from nerfstudio.plugins.registry_dataparser import DataParserSpecification

generated_data = DataParserSpecification(config=NerfstudioDataParserConfig(), description="placeholder")
