module confpy.test/golang-recorder

go 1.19
