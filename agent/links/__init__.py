"""Links in agency replies: what each is, unwrapped from mail gateways, and the records fetched from them."""
