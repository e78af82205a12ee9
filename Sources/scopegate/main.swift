print("scopegate")
