"""Procedural objects with ground truth and seeded, controlled inconsistencies (`datagen synthetic`).

`scenes.make_static_dataset` / `scenes.make_dynamic_dataset` build datasets; the modules below them are
`objects` (layouts), `textures`, `animation` (part motions), `raycast` (rendering), `inconsistency`
(label perturbations), `views` (clean renders and labels of one object) and `contact_sheet` (previews).
"""
