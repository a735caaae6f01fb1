print("vatkernel")
