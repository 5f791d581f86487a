"""The demo webshop simulator: a documented, seeded webshop that feeds `klantreis demo`.

What it simulates (details and measured calibration in docs/simulator.md):

- Five personas with clearly different behaviour (careful comparers, bargain hunters, loyal
  regulars, impulse buyers, service seekers); some persons buy for a business (trait `company`).
- Anonymous visitors (15 per person) who look at a product or two and never buy, so that
  conversion is what real shops see (REES46, UCI online shoppers).
- Anonymous browsing first (page views, searches with `results` sometimes 0, filters, product
  views, cart), then an `identify` linking the anonymous id to a user id with traits (fake
  Dutch/Danish/English names on an address of their own on example domains, country nl/dk/gb,
  language, consent, birthday); some persons later link a second device (identify or alias);
  1 % share a household address, 1 % the family computer, with the person before them.
- Awareness: marketing e-mail (delivered/opened/clicked, a few sent without consent),
  promotions, landing pages with utm data in `context.campaign` (paid search, paid social,
  newsletter), search engines and comparison sites by their referrer only.
- Off the website (`offline.py`): store visits and product calls before some orders, calls
  naming the order and social mentions (complaints) after late parcels, now and then praise;
  their notes and posts are texts in nl/en/da.
- Checkout with payment failures (~4 % of attempts), orders with a promised delivery date,
  confirmation e-mails (mostly within a minute, some late or missing), and rarely a payment
  captured without any order or confirmation.
- Carriers (PostNL, DHL, DPD, GLS, DAO, Bring, Royal Mail) with their own reliability:
  shipped, shipping updates, delivered (about 8 % after the promised date, as in Olist: 7.9 %
  of delivered orders), failed attempts.
- Returns and refunds (some slow), support tickets with replies and realistic response times
  (some slow, some repeated within 14 days), live chat for the chat-heavy persona.
- Web Vitals (p75 LCP between 2 and 3 s, with a slow share).
- Reviews and surveys (nps, csat, ces) whose scores and texts (nl/en/da phrase banks) react
  to what happened: Olist's score distributions on time (mean 4.28) and late (mean 2.60).

Measured on the default shop (2,000 persons and 30,000 visitors, seed 7, 180 days; checked by
tests/collect/test_simulator_calibration.py): 373,237 events, 4,034 orders, 7.9 % of sessions
and 5.3 % of product viewers order, 7.6 % of delivered orders late, mean review score 4.12 on
time and 2.61 late, 3.8 % of payment attempts failed, 95 % of confirmations within a minute,
p75 LCP 2.82 s, about 3–4 s of CPU time.

The ground truth (user ids, anonymous ids and persona per person) is returned beside the
events and never written into them. Everything is deterministic for a seed.
"""

from klantreis.collect.simulator.config import SimulatedShop, SimulatorConfig
from klantreis.collect.simulator.shop import ShopStream, simulate

__all__ = ["ShopStream", "SimulatedShop", "SimulatorConfig", "simulate"]
