import GatewayCore
print("x")
