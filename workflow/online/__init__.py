"""The online channel: the JSON API's contract and tokens, platform transfers, the portal.

``schema`` (the OpenAPI document, generated from the transition table), ``input`` (the
API's body checks, from the same field tables) and ``resources`` (what a request looks
like in JSON) are pure; ``tokens``, ``transfers`` and ``portal`` read and write the
database.
"""
