(attach prog #p"/sys/fs/cgroup" #P"x")
