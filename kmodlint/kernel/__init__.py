"""Target kernel inputs: Module.symvers, System.map, /lib/modules trees."""
