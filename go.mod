module github.com/comfyd/comfyd

go 1.26.8
