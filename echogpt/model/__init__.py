"""Base models, adapter folders, recipes, prompts, SFT, DPO, generation and the llama.cpp engine."""
