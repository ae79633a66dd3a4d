"""From intakes to pairs: proposals, the coordinator's review, the welcomes in new spaces, the
kennismakingsgids, the fit check and ending a pair.
"""
