#!/usr/bin/env python3
"""A small PyTorch CNN, ten inferences under torch.no_grad(), for
tests/gpu/run.sh: run once on the GPU directly and once through RRTO's
libcuda.so.1; the outputs must agree. Usage: torch_cnn.py OUTPUT.pt"""
import sys

import torch


def main():
    torch.manual_seed(0)
    torch.backends.cudnn.deterministic = True
    torch.backends.cudnn.benchmark = False
    model = torch.nn.Sequential(
        torch.nn.Conv2d(1, 8, 3), torch.nn.ReLU(),
        torch.nn.Conv2d(8, 16, 3), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
        torch.nn.Flatten(), torch.nn.Linear(16 * 12 * 12, 64), torch.nn.ReLU(),
        torch.nn.Linear(64, 10), torch.nn.Softmax(dim=1)).cuda().eval()
    inputs = torch.rand(10, 4, 1, 28, 28)
    outputs = []
    with torch.no_grad():
        for x in inputs:
            outputs.append(model(x.cuda()).cpu())
    torch.save(torch.stack(outputs), sys.argv[1])
    print(f"torch_cnn: 10 inferences on {torch.cuda.get_device_name(0)}, first {outputs[0][0].tolist()[:3]}")


if __name__ == "__main__":
    main()
