"""English phrase bank."""

OPENERS = {
    "neg": (
        "",
        "Really disappointed.",
        "Not happy at all.",
        "Honestly, what a hassle.",
        "I expected better.",
        "Sorry, but this was poor.",
    ),
    "mixed": (
        "",
        "Mixed feelings.",
        "So-so experience.",
        "Some good, some bad.",
        "Not bad, not great.",
    ),
    "pos": (
        "",
        "Great shop!",
        "Very happy.",
        "Brilliant.",
        "Top service.",
        "Really pleased with this order.",
    ),
}
CLOSERS = {
    "neg": (
        "",
        "I won't order here again.",
        "Would not recommend.",
        "Please sort this out.",
        "Two stars is generous.",
        "Very frustrating.",
    ),
    "mixed": (
        "",
        "Might order again.",
        "Room for improvement.",
        "Hopefully better next time.",
        "Okay for the price.",
    ),
    "pos": (
        "",
        "Will definitely order again!",
        "Highly recommended.",
        "Thanks!",
        "Keep it up.",
        "Five stars from me.",
    ),
}
REVIEW = {
    "delivery": {
        "neg": (
            "My parcel arrived {days} days later than promised.",
            "Delivery was late and nobody told me why.",
            "I stayed home for nothing, the parcel came {days} days late.",
            "The promised delivery date was not met at all.",
            "Tracking said out for delivery for days, then it finally turned up late.",
            "Ordered it as a birthday present and it arrived after the party.",
        ),
        "mixed": (
            "The product is fine but delivery took {days} days longer than promised.",
            "Arrived late, but the item itself is good.",
            "Delivery was slower than stated, otherwise no complaints.",
        ),
        "pos": (
            "It came a day late, but the product makes up for it.",
            "Slightly late delivery, though customer service kept me informed.",
            "A little delay with the courier, but everything was well packed.",
        ),
    },
    "service": {
        "neg": (
            "I waited days for an answer from customer service.",
            "Customer service kept sending the same standard reply.",
            "I had to chase my question three times before anyone responded.",
            "Support was slow and not helpful at all.",
            "My ticket was closed without my problem being solved.",
        ),
        "mixed": (
            "Customer service was friendly but took a long time to reply.",
            "Eventually they helped me, but it took far too long.",
            "The answer was correct, the waiting was not.",
        ),
        "pos": (
            "Support took a while, but they solved it properly in the end.",
            "A slow first reply, but the agent was very helpful.",
            "After a bit of waiting my issue was handled well.",
        ),
    },
    "product": {
        "neg": (
            "The quality is poor, it feels cheap.",
            "The size was completely off, I had to send it back.",
            "The product looks nothing like the photos.",
            "It broke after a week of use.",
            "The fabric is thin and the stitching came loose.",
            "It does not do what the description promises.",
        ),
        "mixed": (
            "The size runs small, so I returned it for a bigger one.",
            "Decent product, but the quality could be better for this price.",
            "The colour is different from the picture, but it works.",
            "Returning was easy, the product just was not for me.",
        ),
        "pos": (
            "I had to return the first one for size, the replacement fits perfectly.",
            "Returning was easy and the refund came quickly.",
            "Good quality, the exchange went smoothly.",
        ),
    },
    "communication": {
        "neg": (
            "I never got an order confirmation and had no idea if my order went through.",
            "No confirmation e-mail, so I nearly ordered twice.",
            "Communication about my order was lacking.",
        ),
        "mixed": (
            "The order confirmation came very late, the rest was fine.",
            "I was unsure whether my payment went through, but the parcel arrived.",
        ),
        "pos": (
            "The confirmation e-mail was late, but delivery was quick.",
            "A small hiccup with the confirmation, otherwise a great order.",
        ),
    },
    "praise": {
        "pos": (
            "Delivered the next day, well packed.",
            "Exactly as described and a fair price.",
            "Ordering was easy and the parcel arrived on time.",
            "Great quality for the price.",
            "Quick delivery and the tracking updates were clear.",
            "Lovely product, fits perfectly.",
            "The website is easy to use and checkout was quick.",
            "Arrived before the promised date, very neat.",
        ),
    },
}
TITLES = {
    "delivery": {
        "neg": ("Late delivery", "Parcel days late", "Not delivered on time"),
        "mixed": ("Good product, slow delivery", "Late but okay"),
        "pos": ("Slight delay, great product", "Worth the wait"),
    },
    "service": {
        "neg": ("Terrible customer service", "No answer to my questions"),
        "mixed": ("Slow support", "Friendly but slow"),
        "pos": ("Helpful in the end", "Problem solved"),
    },
    "product": {
        "neg": ("Poor quality", "Wrong size", "Not as described"),
        "mixed": ("Average", "Okay product", "Size runs small"),
        "pos": ("Good after exchange", "Easy return"),
    },
    "communication": {
        "neg": ("No order confirmation", "Left in the dark"),
        "mixed": ("Confirmation came late",),
        "pos": ("Small hiccup, great order",),
    },
    "praise": {
        "pos": ("Excellent", "Very satisfied", "Fast and good", "Recommended", "Great shop")
    },
}
SURVEY = {
    "neg": (
        "Too slow.",
        "Nobody kept me informed.",
        "Very disappointing experience.",
        "I expected much more.",
        "Fix your delivery times.",
    ),
    "mixed": (
        "It was okay.",
        "Average, could be faster.",
        "Fine, nothing special.",
        "Some things went wrong.",
    ),
    "pos": (
        "Quick and easy!",
        "Very good service.",
        "Everything went smoothly.",
        "Friendly and fast.",
        "Great experience, thank you.",
    ),
}
TICKETS = {
    "delivery": (
        ("Where is my order {order_id}?", "Parcel not arrived", "Delivery delayed"),
        (
            "Hi, my order {order_id} should have arrived yesterday but I have nothing yet. "
            "Can you check where it is?",
            "The tracking has not changed for days. When will my parcel be delivered?",
            "The courier says they tried to deliver, but I was home all day. What now?",
            "I was promised delivery today and it did not come. I need it this week.",
        ),
    ),
    "payment": (
        ("Charged but no order", "Payment taken twice?", "Payment problem"),
        (
            "Money has been taken from my account but I never got an order confirmation "
            "for {order_id}. Did my order go through?",
            "My payment failed but my bank shows a charge. Please help.",
            "I paid with my card and then got an error page. Is my order placed?",
        ),
    ),
    "order": (
        ("No confirmation e-mail", "Change my order", "Order status"),
        (
            "I did not receive a confirmation e-mail for {order_id}. Is everything okay?",
            "Can I still change the delivery address of order {order_id}?",
            "I would like to add an item to my order {order_id}, is that possible?",
        ),
    ),
    "returns": (
        ("Refund not received", "Return question", "Where is my refund?"),
        (
            "I sent my return back two weeks ago and still have no refund for {order_id}.",
            "How do I return an item that is too small?",
            "Your warehouse received my return, when will I get my money back?",
        ),
    ),
    "product information": (
        ("Question about a product", "Size advice", "Is this compatible?"),
        (
            "Does this jacket run small? I usually wear a medium.",
            "Is this charger compatible with my phone?",
            "Can the duvet cover be washed at 60 degrees?",
            "When will this item be back in stock?",
        ),
    ),
    "invoice": (
        ("Invoice with VAT number", "Company invoice needed"),
        (
            "Could you send an invoice for {order_id} with our company VAT number on it?",
            "Our accounts department needs a proper invoice for order {order_id}.",
        ),
    ),
}
GREETINGS = ("Hi {name},", "Dear {name},", "Hello {name},")
SIGN_OFFS = (
    "Kind regards, the customer service team",
    "Best wishes, Customer Care",
    "Thanks for your patience!",
)
AGENT = {
    "delivery": (
        "Sorry for the delay. I have asked the carrier to look into it urgently.",
        "I checked with the courier; your parcel will be delivered tomorrow.",
        "Apologies, the parcel got held up at the depot. We will keep you posted.",
    ),
    "payment": (
        "I can see your payment arrived. Your order is now being processed.",
        "The charge is a reservation and will be released by your bank in a few days.",
        "Sorry about this, we have confirmed your order manually.",
    ),
    "order": (
        "Your order is confirmed, here is the confirmation again.",
        "I have updated your order as requested.",
        "Unfortunately the order has already been packed, so we cannot change it.",
    ),
    "returns": (
        "Your refund has been approved and will reach your account within 3 days.",
        "You can return it free of charge with the label in your account.",
        "Sorry for the wait, I have pushed your refund through today.",
    ),
    "product information": (
        "Yes, this model runs small; we advise one size up.",
        "It is compatible with all USB-C phones.",
        "The item is expected back in stock in two weeks.",
    ),
    "invoice": (
        "Attached is the invoice with your VAT number.",
        "I have sent the company invoice to your e-mail address.",
    ),
}
FOLLOWUPS = {
    "any": (
        "Thanks, but that does not answer my question.",
        "Any news?",
        "Still nothing, please help.",
        "Thanks for the quick reply!",
        "Okay, I will wait a few more days.",
        "Can someone call me please?",
    ),
    "delivery": ("The parcel still has not arrived.", "The tracking still says in transit."),
    "returns": ("It has been another week and still no refund.",),
}
CHAT_CUSTOMER = {
    "product_question": (
        (
            "Hi, quick question about a product",
            "Hello, does this come in other colours?",
            "Hi! Is the large size in stock?",
            "Can I pay by invoice?",
        ),
        (
            "And how long does delivery take?",
            "Okay, thanks",
            "Great, and the return policy?",
            "Is there a warranty?",
            "Perfect, thank you!",
        ),
    ),
    "order_status": (
        (
            "Hi, where is my order?",
            "Hello, my parcel has not arrived yet",
            "Hi, can I change my delivery address?",
        ),
        (
            "It was promised for yesterday.",
            "Okay, thanks for checking",
            "Can you call the carrier?",
            "Alright, bye",
        ),
    ),
}
CHAT_AGENT = {
    "product_question": (
        (
            "Hi! Happy to help, which product are you looking at?",
            "Hello! Let me check that for you.",
        ),
        (
            "Delivery takes 1-2 working days.",
            "You can return it within 30 days for free.",
            "Yes, 2 years warranty.",
            "You're welcome, have a nice day!",
        ),
    ),
    "order_status": (
        ("Hi! Could you give me your order number?", "Hello, let me look up your parcel."),
        (
            "I see it is with the carrier and due tomorrow.",
            "I have raised it with the carrier.",
            "You're welcome, sorry for the inconvenience.",
        ),
    ),
}

# Store visits, calls and social mentions (collect/simulator/offline.py).
STORE_NOTES = (
    "Customer wanted to see and feel the fabric before ordering, helped nicely",
    "Came in for advice on the size, left happy",
    "Wanted to see the product in real life first, liked it",
)
CALL_NOTES = {
    "product": (
        "Customer called with a question about the dimensions before ordering",
        "Asked whether the product is in stock and when it can be delivered",
    ),
    "delivery": (
        "Customer calls angry: the parcel is late, the promised date has passed",
        "Parcel still not received, customer is very disappointed and wants to know where it is",
        "Customer complains the delivery is delayed again, bad experience",
    ),
}
MENTIONS = {
    "complaint": (
        "Still no parcel, really terrible service #disappointed",
        "Order far too late and no answer from customer service, never again",
        "Product arrived damaged, what a hassle to get this fixed",
    ),
    "praise": (
        "Super fast delivery and the product is beautiful, highly recommended!",
        "Such a lovely shop, quick and friendly help",
        "Very happy with my order, great quality",
    ),
}
