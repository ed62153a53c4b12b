using Stargate.Interop.Generator;

return GeneratorCommand.Run(args, Console.Out, Console.Error);
