"""The synthetic corpus: sampled physiology, its measurements, findings prose and impressions."""
