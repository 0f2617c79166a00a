"""The web-payment participant (``ocppnet webpay run``): the phone page a C25 QR code opens,
the (simulated) payment, the ad hoc session at the station, and the relay of the phone's
end-to-end encrypted channel, of which it sees ciphertext only. Pure parts: ``ocppnet.webpay``.
"""
