"""Ticket structures: what customers write (prompt) and what an agent would summarise (completion).

Syntax in `privtune.sample.render`. PII appears labelled ("Phone: {phone}") and unlabelled (inline in
sentences, at the very start, in signatures, in pasted logs and chats), in varied formats. Completions
mention at most the customer's first name and business ids, never contact or payment data.
"""

from __future__ import annotations

from dataclasses import dataclass

from privtune.sample.render import Compiled, compile_template, template_keys


@dataclass(frozen=True)
class TicketTemplate:
    name: str
    prompt: Compiled
    completions: tuple[Compiled, ...]
    keys: frozenset[str]


def _t(name: str, prompt: str, *completions: str) -> TicketTemplate:
    p = compile_template(prompt)
    cs = tuple(compile_template(c) for c in completions)
    keys = template_keys(p)
    for c in cs:
        keys |= template_keys(c)
    return TicketTemplate(name, p, cs, frozenset(keys))


_SIG = "<<--\n|\n|\nBest,\n|\nRegards,\n|\n{thanks},\n>>"

TEMPLATES: tuple[TicketTemplate, ...] = (
    _t("double_charge",
       "{hello}, I was charged twice for order {order} (<<{amount}|the {product}>>). The card ending {last4} "
       "shows two identical payments. <<My full card number is {card} if you need it.|Card used: {card}.|>> "
       "Please refund one of them.\n" + _SIG + "{name}<<\n{phone}|>>",
       "Customer reports a duplicate charge on order {order}; one payment to be refunded to the card ending {last4}.",
       "<<{first}|Customer>> was billed twice for {order}. Verify with payments and refund the duplicate.",
       "Duplicate payment on {order}. Advise the customer not to send full card numbers by email."),
    _t("refund_bank",
       "Hi there,\n\nI returned the {product} from order {order} {days} days ago and still have no refund. "
       "<<Since the card I used has been cancelled, please|Could you>> send the {amount} to my bank account "
       "instead: <<IBAN: {iban}|{iban}>>, account holder {name}.\n\n{thanks}",
       "Refund of {amount} for returned item on order {order} is pending; customer asks for a bank transfer.",
       "Return received for {order}. Finance to process refund by bank transfer to the account on file."),
    _t("late_delivery",
       "Where is my parcel?? Order {order} was supposed to arrive on {weekday}. {courier} tracking {tracking} "
       "hasn't moved in {days} days. I'm at {address} and someone is home all day. "
       "<<Call me on {phone}|You can reach me at {phone}|Mobile {phone}>>. - {first}",
       "{first} reports order {order} stuck in transit with {courier}; open a carrier investigation.",
       "Late delivery: tracking {tracking} not updated for several days. Escalate to the carrier."),
    _t("address_change",
       "{hello},\nplease change the delivery address for {order}. <<I moved last week.|I gave the wrong street.|>> "
       "New address:\n{address_ml}\n\nOld one was {other_address}. {name}",
       "Address change requested for order {order}; update shipping before dispatch.",
       "Customer moved and needs {order} re-routed. Confirm the change by email before shipping."),
    _t("account_lockout",
       "{email} - I can't log in to my account. It says too many attempts and locks me out. "
       "<<I logged in from {ip} this morning.|My IP is {ip} if that helps.|>> "
       "<<My password was {password}, I haven't changed it.|I tried resetting my password but never got the email.|>> "
       "{first}",
       "Account lockout after repeated failed logins; send a password reset and unlock. Remind the "
       "customer never to share passwords.",
       "Locked-out account. Customer shared credentials in the ticket; force a password reset."),
    _t("chat_transcript",
       "Pasting the chat from yesterday because the issue isn't fixed:\n\n[{time}] Bot: Hi! Can I have your name?\n"
       "[{time}] You: {name_lc}\n[{time}] Bot: And the email on the account?\n[{time}] You: {email}\n"
       "[{time2}] Bot: Thanks. How can I help?\n[{time2}] You: my {product} from {order} arrived broken\n"
       "[{time2}] Bot: Sorry to hear that. An agent will contact you.\n\nNobody contacted me.",
       "Follow-up on an unresolved chat: damaged {product} on order {order}; arrange a replacement.",
       "{first} was promised a callback about a broken {product} ({order}) and never got one."),
    _t("forwarded_email",
       "---------- Forwarded message ---------\nFrom: {fullname} <{email}>\nTo: orders@northwind.example\n"
       "Subject: Re: Your order {order}\n\n<<Hello|Hi|Dear team>>,\nthe invoice for {order} shows the wrong "
       "billing address. It should be {address}.\n\nKind regards\n{fullname}\n{phone}\n<<{url}|>>",
       "Invoice for {order} has an incorrect billing address; reissue the invoice.",
       "Forwarded request: correct the billing address on invoice for order {order}."),
    _t("log_paste",
       "The checkout keeps failing with {err}. Here is what the browser console shows:\n\n"
       "{ts} POST /api/v2/checkout 502 client={ip} user={email} req={reqid}\n"
       "{ts2} retry 1/3 failed client={ip} err={err}\n\nApp version {version} on a {device}.",
       "Checkout fails with {err} (app {version}); forward logs to engineering.",
       "Repeated checkout failure ({err}). Logs attached contain customer identifiers; handle per policy."),
    _t("card_declined",
       "Your site keeps declining my card. <<Number|Card no.|CC>>: {card}, exp {qty}/27, and the bank says "
       "there is no problem. Billing address is {address}. I need the {product} by {weekday}!\n{name}",
       "Card declined at checkout although the bank approves; check the fraud rules for this customer.",
       "Payment failure for a {product}. Customer sent full card details; do not store them."),
    _t("identity_check",
       "Hello, you asked me to verify my identity to unlock my store credit. My name is {fullname}, "
       "date of birth {dob}, SSN {ssn}. <<I live at {address}.|Address: {address}.|>> Please unlock it asap.",
       "Identity verification for store credit; sensitive ID data provided, verify and delete.",
       "Customer supplied identity details to unlock store credit. Do not copy them into the CRM."),
    _t("tax_form",
       "I need a corrected 1099 for last year. <<The one I got has my SSN wrong, it should be {ssn}.|"
       "Please use SSN {ssn} and not the old one.>> Mailing address {address}. Born {dob}. — {name}",
       "Request for a corrected tax form; route to the finance team.",
       "{first} needs a corrected tax document; finance to reissue."),
    _t("gdpr_request",
       "Under the GDPR I request deletion of all personal data you hold about me.\n\nName: {fullname}\n"
       "Email: {email}\nDate of birth: {dob}\nAddress: {address}\n<<Phone: {phone}\n|>>\n"
       "Please confirm in writing within one month.",
       "Data subject erasure request received; start the deletion workflow and confirm within one month.",
       "GDPR deletion request. Identify all records for this customer and confirm erasure."),
    _t("subscription_cancel",
       "cancel my subscription please. i have asked {qty} times already. {email} is the account "
       "and the card on file is {card}. if i get charged again i will dispute it. {name}",
       "Customer wants the subscription cancelled immediately; stop future charges.",
       "Cancellation requested repeatedly. Cancel the plan and confirm no further billing."),
    _t("damaged_return",
       "The {product} (order {order}) arrived with a cracked housing. I'd like to return it. "
       "<<Please send the label to {email}.|Label please, to {email}.>> Pickup from {address} works "
       "<<any weekday|after {time}>>.\n\n{fullname}\n{phone}",
       "Damaged {product} on order {order}; email a prepaid return label.",
       "Return for damage on {order}. Schedule pickup and send the label."),
    _t("api_keys",
       "Our integration with your order API stopped working after your update to {version}. Config below:\n\n"
       "{secret_line}\nendpoint = https://api.northwind.example/v2\n\nError: {err}. Contact: {email}",
       "Partner integration broken after release {version}; customer pasted a credential, ask them to rotate it.",
       "API integration error {err}. A secret was shared in the ticket: advise rotation, do not log it."),
    _t("phone_change",
       "Please update my phone number. Old: {phone2}. New: {phone}. <<The account is under {email}.|"
       "Account email {email}.>> {thanks}, {first}",
       "Phone number update requested; verify ownership before changing contact details.",
       "{first} asked to change the phone number on the account."),
    _t("merge_accounts",
       "I have two accounts by mistake, {email} and {email2}. Can you merge them and keep the order "
       "history of {order}? <<I'm {name}.|>>",
       "Two customer accounts to merge; keep order history for {order}.",
       "Merge duplicate accounts for the same customer."),
    _t("gift_order",
       "I ordered a {product} as a gift for {other_name} but it went to my own address. Please ship the "
       "replacement to <<{other_first} at|>> {other_address}. <<Her|His|Their>> number is {phone2}. Order {order}.",
       "Gift order {order} shipped to the wrong recipient address; re-ship to the gift recipient.",
       "Re-ship gift order {order} to the recipient's address."),
    _t("fraud_report",
       "I did NOT place order {order}! Someone used my card {card} from an IP I don't know ({ip}). "
       "I'm {name}, <<{phone}|email {email}>>. Cancel it and block the card on my account.",
       "Reported unauthorised order {order}; cancel, block the payment method and open a fraud case.",
       "Possible account takeover: unauthorised order {order}. Escalate to the fraud team."),
    _t("invoice_request",
       "Could you send a VAT invoice for order {order}? Billing address: "
       "{address}. Please address it to {fullname} and send it to {email}.",
       "VAT invoice requested for order {order}; issue and email it.",
       "Send a company invoice for {order}."),
    _t("angry_oneliner",
       "{name} here. ORDER {order} IS {days} DAYS LATE. CALL ME {phone}",
       "Escalation: order {order} is late; call the customer back today.",
       "{first} is upset about a late order {order}; priority callback."),
    _t("voicemail",
       "Voicemail transcript ({time}): hi this is {name_lc} calling about order {order} um the "
       "{product} never showed up my number is {phone} again {phone} thanks bye",
       "Voicemail about a missing {product} (order {order}); call back.",
       "Missed delivery reported by voicemail. Return the call."),
    _t("web_form",
       "Contact form submission\nname: {name}\nemail: {email}\nphone: {phone}\norder: {order}\n"
       "message: <<the {product} is missing a part|I was charged {amount} but the price was lower|"
       "the package was left outside in the rain>>",
       "Web form: issue with order {order}; follow up by email.",
       "Contact form ticket about {order}."),
    _t("social_handoff",
       "Following up on my DM to your social team — my profile is {url}. They told me to open a ticket. "
       "The {product} I bought ({order}) stopped charging after a week. {first}",
       "Social media escalation: faulty {product} on order {order}; start a warranty replacement.",
       "{first} came via social media about a faulty {product}."),
    _t("warranty",
       "Warranty claim. <<Serial|S/N>> {sku}, bought {days} months ago (order {order}). It overheats. "
       "Owner: {fullname}, {address}. Best number to reach me: {phone}.",
       "Warranty claim for {sku} (order {order}); send troubleshooting steps or an RMA.",
       "Overheating device under warranty; issue an RMA."),
    _t("courier_instructions",
       "For tomorrow's delivery of {order}: if I'm not in, leave it with my neighbour {other_first} at "
       "number <<12|4|27|3b>>. My address is {address}, ring twice. {phone}",
       "Delivery instructions added for order {order}: leave with a neighbour if nobody is home.",
       "Update delivery notes for {order}."),
    _t("sepa_mandate",
       "I want to pay by direct debit from now on. Mandate details: {fullname}, {iban}, <<{address}|{city}>>. "
       "<<Date of birth {dob} if your form needs it.|>> Please stop charging my card ending {last4}.",
       "Switch payment method to direct debit; set up the mandate and stop card charges.",
       "{first} wants to move to SEPA direct debit."),
    _t("app_crash",
       "App crashes on launch on my {device} (version {version}). Crash log:\n"
       "{ts} FATAL session token=<<{jwt}|{slack_token}|{gh_token}>> user_email={email}\n"
       "{ts2} at CheckoutView.render (main.js:{qty}88)\nPlease fix.",
       "App {version} crashes on launch on {device}; crash log forwarded to mobile engineering.",
       "Mobile crash report; the log contains a session token which must be revoked."),
    _t("reply_thread",
       "Still waiting.\n\n> On {weekday}, Northwind Support wrote:\n> We have escalated your case {ticket}.\n>\n"
       "> > {name} <{email}> wrote:\n> > My refund of {amount} for {order} never arrived.\n\n"
       "Please just send it to {iban}.",
       "Refund of {amount} for {order} still missing after escalation {ticket}; chase finance.",
       "Customer chasing refund on {order} (case {ticket})."),
    _t("cs_loyalty",
       "my loyalty points from order {order} never showed up. account is {email}, born {dob}, "
       "city: {city}. <<{name}|>>",
       "Missing loyalty points for order {order}; credit them manually.",
       "Loyalty points not credited for {order}."),
    _t("aws_leak",
       "Hi, I think I pasted our keys in a previous message to your export service: {aws_key}. "
       "<<Can you delete that message?|Please purge it from your system.>> Thanks, {first} ({email})",
       "Customer accidentally shared a cloud access key; purge the earlier message and advise rotation.",
       "Leaked credential reported by customer; delete prior message content."),
    _t("stripe_webhook",
       "Webhook signature failing ({err}). We set the secret to {stripe_key} in our dashboard "
       "and our server at {ip} gets {err} on every event since {weekday}.",
       "Webhook signature verification failing for a merchant; ask them to rotate the shared secret.",
       "Merchant webhook errors ({err}); a live secret was pasted, advise rotation."),
    _t("no_pii_question",
       "<<Hello|Hi>>, do you ship the {product} to Switzerland and how long does it take? "
       "Also, is there a student discount? {thanks}",
       "General pre-sales question about shipping times and discounts; send the shipping FAQ.",
       "Pre-sales question, no account involved."),
    _t("no_pii_bug",
       "The size filter on the {product} page doesn't work in app version {version}: selecting M still "
       "shows XL only. Error code {err}.",
       "UI bug in the size filter (app {version}, {err}); file with the web team.",
       "Filter bug report for app {version}."),
)
