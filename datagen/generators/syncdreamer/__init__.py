"""SyncDreamer (16 consistent views of an object from one image) and SyncDreamer-T (the same for every frame of a
clip, with time-synchronous spatial volumes). Pure functions and ``nn.Module``s; weights are loaded from files the
user gives (see ``weights.py``)."""
