"""Phrase banks, one module per language (nl, en, da), written for the simulator.

Every module has the same names: OPENERS, CLOSERS and SURVEY by mood (neg, mixed, pos);
REVIEW and TITLES by topic and mood; TICKETS, AGENT and FOLLOWUPS by ticket topic;
CHAT_CUSTOMER and CHAT_AGENT by chat topic as (first turn, later turns); GREETINGS, SIGN_OFFS.
"""
