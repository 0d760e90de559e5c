"""DRL-Rec distillation: explorer, filters, confidence, losses, trainer (next milestone)."""
