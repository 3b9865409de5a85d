"""What the use cases share and no use case owns: single-flight upstream calls
(:mod:`.flight`), cache writes behind the replies (:mod:`.writebehind`), and a call's token
budget and deadline (:mod:`.calls`)."""
